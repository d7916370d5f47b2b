import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Credential } from '../../src/credentials/types.js';
import type { Reference } from '../../src/reference/types.js';
import { createRegistryClient, type RegistryClientOptions } from '../../src/registry/index.js';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { skopeoCopy, skopeoDestFor } from '../helpers/skopeo.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { rejection } from '../helpers/rejection.js';

// The registry client against a real CNCF distribution registry in its three
// set-ups: plain HTTP, HTTPS with Basic auth, HTTPS with token auth.

let workDir: string;
let layout: OciLayoutResult;
const TAGS = ['v1', 'v2', 'v3'];

beforeAll(async () => {
  workDir = await makeTempDir('registry-client-it');
  layout = await buildOciLayout(join(workDir, 'layout'), {
    tag: 'v1',
    platforms: ['linux/amd64', 'linux/arm64'],
    layers: 2,
    layerSize: 64 * 1024,
    seed: 'registry-client',
    mediaTypes: 'oci',
  });
});

afterAll(async () => {
  await removeTempDir(workDir);
});

async function push(registry: RunningRegistry): Promise<void> {
  for (const tag of TAGS) {
    await skopeoCopy(layout.transportRef, `docker://${registry.host}/gantry/demo:${tag}`, { ...skopeoDestFor(registry), multiArch: 'all' });
  }
  await skopeoCopy(layout.transportRef, `docker://${registry.host}/other/repo:latest`, { ...skopeoDestFor(registry), multiArch: 'all' });
}

function blobBytes(digest: string): Promise<Buffer> {
  return readFile(join(layout.dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
}

async function collect(pages: AsyncIterable<string[]>): Promise<string[][]> {
  const out: string[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

/** What every set-up must serve the same way once the client can reach it. */
function pullBehaviour(get: () => { registry: RunningRegistry; options: RegistryClientOptions }) {
  const demo = (over: Partial<Reference> = {}): Reference => ({ registry: get().registry.host, repository: 'gantry/demo', tag: 'v1', ...over });

  it('fetches the index by tag and an image by digest, digest-checked', async () => {
    const client = createRegistryClient(get().options);
    try {
      const index = await client.getManifest(demo());
      expect(index.kind).toBe('index');
      expect(index.digest).toBe(layout.digest);
      const first = layout.images[0];
      const image = await client.getManifest(demo({ tag: undefined, digest: first?.manifest.digest }));
      expect(image.kind).toBe('image');
      const config = await client.getBlobBytes(demo(), first?.config.digest ?? '');
      expect(Buffer.from(config).equals(await blobBytes(first?.config.digest ?? ''))).toBe(true);
      const head = await client.headManifest(demo());
      expect(head).toMatchObject({ digest: layout.digest, size: layout.root.size, mediaType: 'application/vnd.oci.image.index.v1+json' });
    } finally {
      await client.close();
    }
  });

  it('streams a layer from an offset', async () => {
    const client = createRegistryClient(get().options);
    try {
      const layer = layout.images[0]?.layers[0]?.descriptor;
      if (!layer) throw new Error('fixture has no layer');
      const opened = await client.openBlob(demo(), layer, { from: 1000 });
      expect(opened.offset).toBe(1000);
      const chunks: Buffer[] = [];
      for await (const chunk of opened.body as AsyncIterable<Buffer>) chunks.push(chunk);
      expect(Buffer.concat(chunks).equals((await blobBytes(layer.digest)).subarray(1000))).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('lists tags, and the catalog page by page', async () => {
    const client = createRegistryClient(get().options);
    try {
      // distribution 2.8 ignores `n` for tags (pagination came with 3.0); the catalog pages.
      expect((await collect(client.listTags(demo(), { pageSize: 2 }))).flat()).toEqual(TAGS);
      expect(await collect(client.catalog(get().registry.host, { pageSize: 1 }))).toEqual([['gantry/demo'], ['other/repo']]);
    } finally {
      await client.close();
    }
  });

  it('decodes missing manifests and repositories', async () => {
    const client = createRegistryClient(get().options);
    try {
      expect((await rejection(client.getManifest(demo({ tag: 'nope' })))).code).toBe('MANIFEST_UNKNOWN');
      expect((await rejection(client.headManifest(demo({ tag: 'nope' })))).code).toBe('MANIFEST_UNKNOWN');
      // distribution answers a manifest of an unknown repository with MANIFEST_UNKNOWN, its tag list with NAME_UNKNOWN.
      expect((await rejection(client.getManifest(demo({ repository: 'gantry/missing' })))).code).toBe('MANIFEST_UNKNOWN');
      expect((await rejection(collect(client.listTags(demo({ repository: 'gantry/missing' }))))).code).toBe('NAME_UNKNOWN');
    } finally {
      await client.close();
    }
  });
}

describe('plain HTTP registry', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ mode: 'plain' });
    await push(registry);
  });
  afterAll(() => registry.stop());

  const options = (): RegistryClientOptions => ({ version: 'it', env: {} });

  it('falls back to plain HTTP for a loopback registry and names gantry in the User-Agent', async () => {
    const client = createRegistryClient(options());
    try {
      expect((await client.ping(registry.host)).baseUrl).toBe(`http://${registry.host}`);
      await client.headManifest({ registry: registry.host, repository: 'gantry/demo', tag: 'v1' });
    } finally {
      await client.close();
    }
    const entries = await registry.accessLog();
    expect(entries.at(-1)?.userAgent).toMatch(/^gantry\/it \(node [\d.]+; linux\)$/);
  });

  pullBehaviour(() => ({ registry, options: options() }));
});

describe('HTTPS registry with Basic auth', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ mode: 'htpasswd-tls' });
    await push(registry);
  });
  afterAll(() => registry.stop());

  const credential = (): Credential => ({ username: registry.username ?? '', password: registry.password ?? '' });
  const options = (over: Partial<RegistryClientOptions> = {}): RegistryClientOptions => ({
    version: 'it',
    env: {},
    certsDirs: [],
    caFile: registry.caFile ?? '',
    credentials: async () => credential(),
    ...over,
  });

  it('refuses the registry certificate without its CA, with a hint', async () => {
    const client = createRegistryClient(options({ caFile: undefined }));
    try {
      const err = await rejection(client.ping(registry.host));
      expect(err.code).toBe('TLS');
      expect(err.hint).toContain('--ca-file');
    } finally {
      await client.close();
    }
  });

  it('trusts the CA from a certs.d directory', async () => {
    const certsDir = join(workDir, 'certs.d');
    await mkdir(join(certsDir, registry.host), { recursive: true });
    await copyFile(registry.caFile ?? '', join(certsDir, registry.host, 'ca.crt'));
    const client = createRegistryClient(options({ caFile: undefined, certsDirs: [certsDir] }));
    try {
      expect((await client.getManifest({ registry: registry.host, repository: 'gantry/demo', tag: 'v1' })).digest).toBe(layout.digest);
    } finally {
      await client.close();
    }
  });

  it('requires credentials and checks them as docker login does', async () => {
    const anonymous = createRegistryClient(options({ credentials: async () => undefined }));
    try {
      const err = await rejection(anonymous.getManifest({ registry: registry.host, repository: 'gantry/demo', tag: 'v1' }));
      expect(err.code).toBe('AUTH_REQUIRED');
      await anonymous.verifyCredential(registry.host, credential());
      const bad = await rejection(anonymous.verifyCredential(registry.host, { username: credential().username, password: 'wrong' }));
      expect(bad.code).toBe('AUTH_FAILED');
    } finally {
      await anonymous.close();
    }
  });

  it('reports a wrong stored password as AUTH_FAILED', async () => {
    const client = createRegistryClient(options({ credentials: async () => ({ username: 'alice', password: 'wrong' }) }));
    try {
      expect((await rejection(client.getManifest({ registry: registry.host, repository: 'gantry/demo', tag: 'v1' }))).code).toBe('AUTH_FAILED');
    } finally {
      await client.close();
    }
  });

  pullBehaviour(() => ({ registry, options: options() }));
});

describe('HTTPS registry with token auth', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ mode: 'token-tls' });
    await push(registry);
  });
  afterAll(() => registry.stop());

  const options = (credential: Credential | undefined, over: Partial<RegistryClientOptions> = {}): RegistryClientOptions => ({
    version: 'it',
    env: {},
    certsDirs: [],
    caFile: registry.caFile ?? '',
    credentials: async () => credential,
    ...over,
  });
  const alice = (): Credential => ({ username: registry.username ?? '', password: registry.password ?? '' });
  const demo = (): Reference => ({ registry: registry.host, repository: 'gantry/demo', tag: 'v1' });

  it('fetches one token per scope set and reuses it across requests', async () => {
    registry.tokenIssuer?.resetRequests();
    const client = createRegistryClient(options(alice()));
    try {
      const index = await client.getManifest(demo());
      const child = index.kind === 'index' ? index.manifest.manifests[0] : undefined;
      await client.getManifest({ ...demo(), tag: undefined, digest: child?.digest });
      await client.headManifest(demo());
      await collect(client.listTags(demo(), { pageSize: 1 }));
    } finally {
      await client.close();
    }
    const requests = registry.tokenIssuer?.requests ?? [];
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ grant: 'basic', username: 'alice', account: 'alice', scopes: ['repository:gantry/demo:pull'], status: 200 });
  });

  it('says authentication is required to an anonymous client', async () => {
    const client = createRegistryClient(options(undefined));
    try {
      const err = await rejection(client.getManifest(demo()));
      expect(err.code).toBe('AUTH_REQUIRED');
      expect(err.hint).toContain('gantry login');
    } finally {
      await client.close();
    }
  });

  it('verifies a login with account=<user> and no scope, and rejects a wrong password', async () => {
    registry.tokenIssuer?.resetRequests();
    const client = createRegistryClient(options(undefined));
    try {
      await client.verifyCredential(registry.host, alice());
      const err = await rejection(client.verifyCredential(registry.host, { username: 'alice', password: 'wrong' }));
      expect(err.code).toBe('AUTH_FAILED');
    } finally {
      await client.close();
    }
    const [ok, bad] = registry.tokenIssuer?.requests ?? [];
    expect(ok).toMatchObject({ account: 'alice', scopes: [], status: 200 });
    expect(bad?.status).toBe(401);
  });

  it('pulls with an identity token through the OAuth2 refresh grant', async () => {
    const refresh = await offlineRefreshToken(registry);
    registry.tokenIssuer?.resetRequests();
    const client = createRegistryClient(options({ identityToken: refresh }));
    try {
      expect((await client.getManifest(demo())).digest).toBe(layout.digest);
    } finally {
      await client.close();
    }
    expect(registry.tokenIssuer?.requests[0]).toMatchObject({ method: 'POST', grant: 'refresh_token', clientId: 'gantry', status: 200 });
  });

  it('lists the catalog with the registry:catalog:* scope', async () => {
    const client = createRegistryClient(options(alice()));
    try {
      expect((await collect(client.catalog(registry.host))).flat()).toEqual(['gantry/demo', 'other/repo']);
    } finally {
      await client.close();
    }
  });

  it('keeps passwords and tokens out of debug lines', async () => {
    const lines: string[] = [];
    const client = createRegistryClient(options(alice(), { log: (l) => lines.push(l) }));
    try {
      await client.verifyCredential(registry.host, alice());
      await client.getManifest(demo());
    } finally {
      await client.close();
    }
    const output = lines.join('\n');
    expect(output).toContain('auth: token for');
    expect(output).not.toContain(registry.password ?? 'unset');
    // Registry tokens are JWTs: three base64url parts starting with eyJ.
    expect(output).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  });

  pullBehaviour(() => ({ registry, options: options(alice()) }));
});

/** Ask the token issuer for an offline token as `docker login` does, to get a refresh token. */
async function offlineRefreshToken(registry: RunningRegistry): Promise<string> {
  const realm = new URL(registry.tokenIssuer?.realm ?? '');
  realm.searchParams.set('service', registry.tokenIssuer?.service ?? '');
  realm.searchParams.set('offline_token', 'true');
  realm.searchParams.set('client_id', 'gantry-test');
  const ca = await readFile(registry.caFile ?? '');
  const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
  const body = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(realm, { ca, headers: { authorization: `Basic ${auth}` } }, (res) => {
      text(res).then(resolve, reject);
    });
    req.on('error', reject);
    req.end();
  });
  const token = (JSON.parse(body) as { refresh_token?: string }).refresh_token;
  if (!token) throw new Error('the token issuer returned no refresh token');
  return token;
}
