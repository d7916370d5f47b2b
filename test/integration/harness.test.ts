import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { startRegistry, type RegistryMode, type RunningRegistry } from '../helpers/registry.js';
import { SkopeoError, skopeoAccessFor, skopeoCopy, skopeoDestFor, skopeoDigest, skopeoInspect } from '../helpers/skopeo.js';
import { createTestCA, issueServerCert, type TestCA } from '../helpers/tls.js';
import { decodeJwt, startTokenIssuer } from '../helpers/token-issuer.js';
import { makeTempDir, removeAllTempDirs } from '../helpers/tmp.js';

const run = promisify(execFile);

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A bare HTTP(S) call, trusting `ca` when given; bodies here are small JSON. */
function call(
  url: string,
  options: { ca?: Buffer; method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const opts = { method: options.method ?? 'GET', headers: options.headers ?? {}, timeout: 5_000, agent: false as const };
    const req = url.startsWith('https:') ? httpsRequest(url, { ...opts, ca: options.ca }) : httpRequest(url, opts);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

const MODES: RegistryMode[] = ['plain', 'htpasswd-tls', 'token-tls'];

describe('the real-registry test harness', () => {
  let ca: TestCA;
  let caPem: Buffer;
  let layoutDir: string;
  const registries = new Map<RegistryMode, RunningRegistry>();
  let single: OciLayoutResult;
  let multi: OciLayoutResult;
  let singleDocker: OciLayoutResult;
  let multiDocker: OciLayoutResult;

  const reg = (mode: RegistryMode): RunningRegistry => {
    const r = registries.get(mode);
    if (!r) throw new Error(`registry ${mode} did not start`);
    return r;
  };

  beforeAll(async () => {
    ca = await createTestCA(await makeTempDir('harness-ca'));
    caPem = await readFile(ca.certFile);
    layoutDir = await makeTempDir('harness-layout');
    const started = await Promise.all(
      MODES.map((mode) => startRegistry({ mode, ca, deleteEnabled: true, publicRepositories: ['public/*'] })),
    );
    for (const r of started) registries.set(r.mode, r);
    single = await buildOciLayout(layoutDir, { tag: 'single', layers: 2, layerSize: 8192, seed: 1, mediaTypes: 'oci', annotations: { 'org.example': 'one' } });
    multi = await buildOciLayout(layoutDir, {
      tag: 'multi', platforms: ['linux/amd64', 'linux/arm64/v8'], layers: 2, layerSize: 4096, seed: 2, sharedLayers: 1, mediaTypes: 'oci',
    });
    // Docker-typed images get a layout each: skopeo 1.9 finds them only as a layout's sole entry.
    singleDocker = await buildOciLayout(await makeTempDir('harness-docker1'), { tag: 'single-docker', layers: 1, layerSize: 4096, seed: 3, mediaTypes: 'docker' });
    multiDocker = await buildOciLayout(await makeTempDir('harness-docker2'), {
      tag: 'multi-docker', platforms: ['linux/amd64', 'linux/arm/v7'], layers: 1, layerSize: 4096, seed: 4, mediaTypes: 'docker',
    });
  });

  afterAll(async () => {
    await Promise.all([...registries.values()].map((r) => r.stop()));
    await removeAllTempDirs();
  });

  describe('oci-fixtures', () => {
    it('produces the same digests for the same seed and different ones for another seed', async () => {
      const spec = { tag: 'x', platforms: ['linux/amd64', 'linux/arm64/v8'], layers: 2, layerSize: 1000, seed: 7, mediaTypes: 'oci' as const };
      const a = await buildOciLayout(await makeTempDir('fx-a'), spec);
      const b = await buildOciLayout(await makeTempDir('fx-b'), spec);
      const c = await buildOciLayout(await makeTempDir('fx-c'), { ...spec, seed: 8 });
      expect(b.digest).toBe(a.digest);
      expect(b.blobs.map((d) => d.digest)).toEqual(a.blobs.map((d) => d.digest));
      expect(c.digest).not.toBe(a.digest);
      expect(c.images[0]?.layers[0]?.descriptor.digest).not.toBe(a.images[0]?.layers[0]?.descriptor.digest);
    });

    it('names every blob by the sha256 of its bytes and records its true size', async () => {
      for (const layout of [single, multi, singleDocker, multiDocker]) {
        for (const blob of layout.blobs) {
          const bytes = await readFile(join(layout.dir, 'blobs', 'sha256', blob.digest.slice(7)));
          expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(blob.digest);
          expect(bytes.length).toBe(blob.size);
        }
      }
    });

    it('writes layers as gzip’d tars whose sha256 are the config’s diff_ids', async () => {
      const image = single.images[0];
      expect(image).toBeDefined();
      if (!image) return;
      const config = JSON.parse(await readFile(join(layoutDir, 'blobs', 'sha256', image.config.digest.slice(7)), 'utf8')) as {
        rootfs: { diff_ids: string[] };
        os: string;
        architecture: string;
        config: { Env: string[]; Entrypoint: string[]; Cmd: string[]; Labels: Record<string, string>; ExposedPorts: Record<string, unknown> };
        history: unknown[];
      };
      expect(config.rootfs.diff_ids).toEqual(image.layers.map((l) => l.diffId));
      expect(config).toMatchObject({ os: 'linux', architecture: 'amd64' });
      expect(config.history).toHaveLength(2);
      expect(Object.keys(config.config.ExposedPorts)).toEqual(['8080/tcp']);
      for (const layer of image.layers) {
        const file = join(layoutDir, 'blobs', 'sha256', layer.descriptor.digest.slice(7));
        const tar = gunzipSync(await readFile(file));
        expect(`sha256:${createHash('sha256').update(tar).digest('hex')}`).toBe(layer.diffId);
        const { stdout } = await run('tar', ['-tzvf', file], { timeout: 10_000 });
        expect(stdout).toMatch(/data\.bin/);
        expect(stdout).toMatch(/ 8192 /);
        expect(stdout).toMatch(/README\.txt/);
      }
    });

    it('shares the first sharedLayers layers across platforms and no others', () => {
      const [amd, arm] = multi.images;
      expect(amd?.layers[0]?.descriptor.digest).toBe(arm?.layers[0]?.descriptor.digest);
      expect(amd?.layers[1]?.descriptor.digest).not.toBe(arm?.layers[1]?.descriptor.digest);
      expect(arm?.platform).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    });

    it('lists every tag in index.json and writes an index with a platform per manifest', async () => {
      const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as {
        manifests: Array<{ digest: string; mediaType: string; annotations: Record<string, string> }>;
      };
      const byTag = new Map(index.manifests.map((m) => [m.annotations['org.opencontainers.image.ref.name'], m]));
      expect(byTag.get('single')?.digest).toBe(single.digest);
      expect(byTag.get('single')?.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(byTag.get('multi')?.digest).toBe(multi.indexDigest);
      expect(multiDocker.root.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
      expect(multiDocker.transportRef).toBe(`oci:${multiDocker.dir}`);
      expect(multi.transportRef).toBe(`oci:${layoutDir}:multi`);
      const list = JSON.parse(await readFile(join(multiDocker.dir, 'blobs', 'sha256', multiDocker.digest.slice(7)), 'utf8')) as {
        manifests: Array<{ digest: string; platform: unknown }>;
      };
      expect(list.manifests.map((m) => m.platform)).toEqual([
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm', variant: 'v7' },
      ]);
      expect(list.manifests.map((m) => m.digest)).toEqual(multiDocker.images.map((i) => i.manifest.digest));
    });

    it('refuses annotations with docker media types', async () => {
      await expect(
        buildOciLayout(await makeTempDir('fx-bad'), { tag: 't', layers: 0, layerSize: 0, seed: 1, mediaTypes: 'docker', annotations: { a: 'b' } }),
      ).rejects.toThrow(/annotations need OCI/);
    });
  });

  describe('registry /v2/', () => {
    it('answers 200 without credentials in plain mode', async () => {
      const res = await call(`${reg('plain').url}/v2/`);
      expect(res.status).toBe(200);
      expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
    });

    it('challenges with Basic in htpasswd mode, admits the right password and refuses a wrong one', async () => {
      const r = reg('htpasswd-tls');
      expect(r.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const anon = await call(`${r.url}/v2/`, { ca: caPem });
      expect(anon.status).toBe(401);
      expect(anon.headers['www-authenticate']).toBe('Basic realm="gantry-test-realm"');
      const good = await call(`${r.url}/v2/`, { ca: caPem, headers: { authorization: basic(r.username ?? '', r.password ?? '') } });
      expect(good.status).toBe(200);
      const bad = await call(`${r.url}/v2/`, { ca: caPem, headers: { authorization: basic(r.username ?? '', 'wrong-password') } });
      expect(bad.status).toBe(401);
    });

    it('challenges with Bearer in token mode, and a token from the issuer admits the client', async () => {
      const r = reg('token-tls');
      const issuer = r.tokenIssuer;
      expect(issuer).toBeDefined();
      if (!issuer) return;
      const anon = await call(`${r.url}/v2/`, { ca: caPem });
      expect(anon.status).toBe(401);
      expect(anon.headers['www-authenticate']).toBe(`Bearer realm="${issuer.realm}",service="${issuer.service}"`);
      const tokenRes = await call(`${issuer.realm}?service=${issuer.service}`, {
        ca: caPem,
        headers: { authorization: basic(r.username ?? '', r.password ?? '') },
      });
      expect(tokenRes.status).toBe(200);
      const { token, access_token: accessToken, expires_in: expiresIn } = JSON.parse(tokenRes.body) as Record<string, unknown>;
      expect(accessToken).toBe(token);
      expect(expiresIn).toBe(300);
      const ok = await call(`${r.url}/v2/`, { ca: caPem, headers: { authorization: `Bearer ${String(token)}` } });
      expect(ok.status).toBe(200);
    });
  });

  describe('token issuer', () => {
    const tokenUrl = (scope: string): string => {
      const issuer = reg('token-tls').tokenIssuer;
      if (!issuer) throw new Error('no issuer');
      return `${issuer.realm}?service=${encodeURIComponent(issuer.service)}&scope=${encodeURIComponent(scope)}`;
    };

    it('refuses a wrong password with 401', async () => {
      const res = await call(tokenUrl('repository:a/b:pull'), { ca: caPem, headers: { authorization: basic('alice', 'not-it') } });
      expect(res.status).toBe(401);
      expect(res.body).not.toContain('not-it');
    });

    it('grants the intersection of the asked actions and the user’s grants, signed with an x5c chain', async () => {
      const res = await call(tokenUrl('repository:team/app:pull,push'), { ca: caPem, headers: { authorization: basic('bob', 'bob-test-password') } });
      expect(res.status).toBe(200);
      const { header, claims } = decodeJwt(String((JSON.parse(res.body) as { token: string }).token));
      expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT' });
      expect(Array.isArray(header.x5c)).toBe(true);
      expect(claims).toMatchObject({ iss: 'gantry-test-issuer', aud: 'gantry-test-registry', sub: 'bob' });
      expect(claims.access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    });

    it('gives anonymous clients pull on public repositories only', async () => {
      const pub = await call(tokenUrl('repository:public/base:pull,push'), { ca: caPem });
      expect(decodeJwt((JSON.parse(pub.body) as { token: string }).token).claims.access).toEqual([
        { type: 'repository', name: 'public/base', actions: ['pull'] },
      ]);
      const priv = await call(tokenUrl('repository:private/base:pull'), { ca: caPem });
      expect(priv.status).toBe(200);
      expect(decodeJwt((JSON.parse(priv.body) as { token: string }).token).claims.access).toEqual([]);
    });

    it('serves the OAuth2 password and refresh_token grants', async () => {
      const issuer = reg('token-tls').tokenIssuer;
      if (!issuer) throw new Error('no issuer');
      const post = (form: Record<string, string>): Promise<Reply> =>
        call(issuer.realm, {
          ca: caPem,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ service: issuer.service, client_id: 'harness', ...form }).toString(),
        });
      const first = await post({ grant_type: 'password', username: 'alice', password: 'alice-test-password', access_type: 'offline', scope: 'repository:a/b:push' });
      expect(first.status).toBe(200);
      const firstBody = JSON.parse(first.body) as { access_token: string; refresh_token: string; scope: string };
      expect(firstBody.scope).toBe('repository:a/b:push');
      expect(firstBody.refresh_token).toMatch(/\S{20,}/);
      const refreshed = await post({ grant_type: 'refresh_token', refresh_token: firstBody.refresh_token, scope: 'repository:c/d:pull' });
      expect(refreshed.status).toBe(200);
      const refreshedBody = JSON.parse(refreshed.body) as { access_token: string; refresh_token: string };
      expect(refreshedBody.refresh_token).toBe(firstBody.refresh_token);
      expect(decodeJwt(refreshedBody.access_token).claims).toMatchObject({ sub: 'alice', access: [{ type: 'repository', name: 'c/d', actions: ['pull'] }] });
      const online = await post({ grant_type: 'password', username: 'alice', password: 'alice-test-password' });
      expect(JSON.parse(online.body)).not.toHaveProperty('refresh_token');
      expect((await post({ grant_type: 'password', username: 'alice', password: 'nope-nope' })).status).toBe(401);
      expect((await post({ grant_type: 'refresh_token', refresh_token: 'made-up-token' })).status).toBe(401);
    });
  });

  describe('a standalone token issuer', () => {
    it('counts requests, honours setExpiresIn, and answers POST with 404 when OAuth2 is off', async () => {
      const signer = await issueServerCert(ca, { name: 'standalone-signer', dir: await makeTempDir('issuer'), keyType: 'rsa' });
      const issuer = await startTokenIssuer({ signer, oauth: false, users: [{ username: 'u', password: 'pw-pw-pw', access: [] }] });
      try {
        expect(issuer.realm).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/token$/);
        const get = (): Promise<Reply> => call(`${issuer.realm}?service=${issuer.service}&scope=repository:x:pull`);
        issuer.setExpiresIn(90);
        expect((JSON.parse((await get()).body) as { expires_in: number }).expires_in).toBe(90);
        await get();
        expect((await call(`${issuer.realm}?service=other`)).status).toBe(400);
        const post = await call(issuer.realm, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=password' });
        expect(post.status).toBe(404);
        expect(issuer.requests.map((r) => [r.method, r.status])).toEqual([['GET', 200], ['GET', 200], ['GET', 400], ['POST', 404]]);
        expect(issuer.requests[0]?.scopes).toEqual(['repository:x:pull']);
        issuer.resetRequests();
        expect(issuer.requests).toHaveLength(0);
      } finally {
        await issuer.close();
      }
    });
  });

  describe('skopeo against each mode', () => {
    it.each(MODES)('pushes a single-platform and a multi-platform layout into %s with the digests buildOciLayout computed', async (mode) => {
      const r = reg(mode);
      const pushes: Array<[OciLayoutResult, string]> = [
        [single, 'harness/single'],
        [multi, 'harness/multi'],
        ...(mode === 'plain' ? ([[singleDocker, 'harness/single-docker'], [multiDocker, 'harness/multi-docker']] as Array<[OciLayoutResult, string]>) : []),
      ];
      for (const [layout, repo] of pushes) {
        await skopeoCopy(layout.transportRef, `docker://${r.host}/${repo}:v1`, { ...skopeoDestFor(r), multiArch: 'all', preserveDigests: true });
        expect(await skopeoDigest(`docker://${r.host}/${repo}:v1`, skopeoAccessFor(r))).toBe(layout.digest);
      }
      const raw = await skopeoInspect(`docker://${r.host}/harness/multi:v1`, { ...skopeoAccessFor(r), raw: true });
      expect((raw.manifests as Array<{ digest: string }>).map((m) => m.digest)).toEqual(multi.images.map((i) => i.manifest.digest));
    });

    it('refuses a wrong password in both auth modes, without echoing it', async () => {
      for (const mode of ['htpasswd-tls', 'token-tls'] as const) {
        const r = reg(mode);
        const err = await skopeoCopy(`oci:${layoutDir}:single`, `docker://${r.host}/harness/denied:v1`, {
          destCreds: `${r.username ?? ''}:wrong-password-123`,
          destCertDir: r.certDir,
        }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(SkopeoError);
        expect((err as SkopeoError).message).toMatch(/unauthorized|authentication required|401/i);
        expect((err as SkopeoError).message).not.toContain('wrong-password-123');
      }
    });

    it('lets a pull-only token user pull but not push, and records the scopes asked for', async () => {
      const r = reg('token-tls');
      const bob = { destCreds: 'bob:bob-test-password', destCertDir: r.certDir };
      await expect(skopeoCopy(`oci:${layoutDir}:single`, `docker://${r.host}/harness/bob:v1`, bob)).rejects.toThrow(SkopeoError);
      const digest = await skopeoDigest(`docker://${r.host}/harness/single:v1`, { creds: 'bob:bob-test-password', certDir: r.certDir });
      expect(digest).toBe(single.digest);
      const asked = r.tokenIssuer?.requests.filter((q) => q.username === 'alice').flatMap((q) => q.scopes) ?? [];
      expect(asked).toContain('repository:harness/single:pull,push');
    });
  });

  describe('registry lifecycle and logs', () => {
    it('counts blob uploads and manifest puts in the access log', async () => {
      const r = reg('plain');
      const log = await r.accessLog();
      const uploads = log.filter((e) => e.method === 'PUT' && e.path.startsWith('/v2/harness/single/blobs/uploads/'));
      const manifests = log.filter((e) => e.method === 'PUT' && e.path === '/v2/harness/single/manifests/v1');
      // 2 layers + 1 config, each uploaded once; the manifest once.
      expect(uploads).toHaveLength(3);
      expect(uploads.every((e) => e.status === 201)).toBe(true);
      expect(manifests).toHaveLength(1);
      expect(log.some((e) => e.userAgent === 'gantry-test-harness-probe')).toBe(false);
    });

    it('keeps its storage across restart()', async () => {
      const r = reg('plain');
      await r.restart();
      expect(await skopeoDigest(`docker://${r.host}/harness/single:v1`, skopeoAccessFor(r))).toBe(single.digest);
    });

    it('stop() ends the process, frees the port and removes its files', async () => {
      const r = await startRegistry({ mode: 'plain' });
      await r.stop();
      await expect(call(`${r.url}/v2/`)).rejects.toThrow(/ECONNREFUSED/);
      await expect(access(r.dataDir)).rejects.toThrow(/ENOENT/);
    });

    it('fails loudly, with the registry’s log, when the registry cannot start', async () => {
      await expect(
        startRegistry({ mode: 'plain', extraConfig: { storage: { filesystem: null, nosuchdriver: {} } } }),
      ).rejects.toThrow(/exited with .*log tail:[\s\S]*nosuchdriver/);
    });
  });
});
