import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/run-cli.js';
import { main } from '../../src/cli/main.js';
import { skopeoCopy, skopeoDestFor, skopeoDigest, skopeoInspect } from '../helpers/skopeo.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// The foundation issue's acceptance scenario: against the token-auth registry
// over TLS, with credentials saved by `gantry login`, the read-only commands
// agree with what skopeo pushed.

const TAGS = ['1.0.0', '1.2.3', 'v1.3.0', '2.0.0-rc.1', '3.22-alpine', 'latest'];
let registry: RunningRegistry;
let work: string;
let multi: OciLayoutResult;
let single: OciLayoutResult;
let env: NodeJS.ProcessEnv;
let repo: string;
let imageRepo: string;

const cli = (args: string[], stdin?: string) => runCli(['--ca-file', registry.caFile as string, ...args], { env, ...(stdin !== undefined ? { stdin } : {}) });
const skopeoOpts = () => ({ creds: `${registry.username}:${registry.password}`, certDir: registry.certDir as string, tlsVerify: true });

beforeAll(async () => {
  work = await makeTempDir('cli-readonly');
  registry = await startRegistry({ mode: 'token-tls' });
  env = { HOME: work, DOCKER_CONFIG: join(work, 'docker'), GANTRY_CONFIG: join(work, 'gantry.json') };
  multi = await buildOciLayout(join(work, 'multi'), {
    tag: 'multi',
    platforms: ['linux/amd64', 'linux/arm64/v8'],
    layers: 2,
    layerSize: 32 * 1024,
    seed: 'cli-multi',
    mediaTypes: 'oci',
    annotations: { 'org.opencontainers.image.source': 'https://example.invalid/app' },
  });
  single = await buildOciLayout(join(work, 'single'), { tag: 'one', layers: 3, layerSize: 16 * 1024, seed: 'cli-single', mediaTypes: 'oci' });
  repo = `${registry.host}/team/app`;
  imageRepo = `${registry.host}/team/single`;
  for (const tag of TAGS) {
    await skopeoCopy(multi.transportRef, `docker://${repo}:${tag}`, { ...skopeoDestFor(registry), multiArch: 'all', preserveDigests: true });
  }
  await skopeoCopy(single.transportRef, `docker://${imageRepo}:one`, { ...skopeoDestFor(registry) });
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  await removeTempDir(work);
});

describe('login against the token-auth registry over TLS', () => {
  it('a wrong password exits 3 and leaves config.json byte-for-byte untouched', async () => {
    const configPath = join(env.DOCKER_CONFIG as string, 'config.json');
    const before = '{\n\t"auths": {},\n\t"credsStore": "",\n\t"proxies": {"default": {"httpProxy": "keep-me"}}\n}\n';
    await import('node:fs/promises').then((fs) => fs.mkdir(env.DOCKER_CONFIG as string, { recursive: true }));
    await writeFile(configPath, before);
    const r = await cli(['login', registry.host, '-u', registry.username as string, '--password-stdin'], 'not-the-password\n');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/error: /);
    expect(await readFile(configPath, 'utf8')).toBe(before);
  });

  it('saves verified credentials with mode 0600, keeping the other keys', async () => {
    const r = await cli(['login', registry.host, '-u', registry.username as string, '--password-stdin'], `${registry.password}\n`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Login Succeeded/);
    const configPath = join(env.DOCKER_CONFIG as string, 'config.json');
    const config = JSON.parse(await readFile(configPath, 'utf8'));
    expect(config.proxies.default.httpProxy).toBe('keep-me');
    expect(Buffer.from(config.auths[registry.host].auth, 'base64').toString()).toBe(`${registry.username}:${registry.password}`);
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
  });

  it('prompts on a terminal, without echoing the password', async () => {
    // Typed like a person: each answer after its prompt appears.
    const stdin = new PassThrough() as PassThrough & { isTTY?: boolean; setRawMode?: (m: boolean) => unknown };
    stdin.isTTY = true;
    stdin.setRawMode = () => stdin;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (c: Buffer) => out.push(c));
    stderr.on('data', (c: Buffer) => {
      err.push(c);
      const text = Buffer.concat(err).toString();
      // A person answers after the prompt is on the screen, never inside the write that shows it.
      if (text.endsWith('Username: ')) setImmediate(() => stdin.write(`${registry.username}\n`));
      if (text.endsWith('Password: ')) setImmediate(() => stdin.write(`${registry.password}\n`));
    });
    const code = await main(['--ca-file', registry.caFile as string, 'login', registry.host], {
      io: { stdin, stdout, stderr, env: { PATH: process.env.PATH, ...env } },
      signal: new AbortController().signal,
    });
    const shown = Buffer.concat(err).toString();
    expect(shown).toMatch(/Username: /);
    expect(shown).toMatch(/Password: /);
    expect(shown).not.toContain(registry.password as string);
    expect(code).toBe(0);
    expect(Buffer.concat(out).toString()).toMatch(/Login Succeeded/);
  });

  it('a terminal whose input ends at the prompt is a usage error, not a crash', async () => {
    const r = await runCli(['--ca-file', registry.caFile as string, 'login', registry.host, '-u', 'alice'], { env, tty: true, stdin: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/bug in gantry/);
  });

  it('warns about -p but works', async () => {
    const r = await cli(['login', registry.host, '-u', registry.username as string, '-p', registry.password as string]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: .*--password-stdin/);
  });
});

describe('read-only commands with the saved credentials', () => {
  it('tags lists every tag, one a line when piped, and as a JSON array', async () => {
    const plain = await cli(['tags', repo]);
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim().split('\n').sort()).toEqual([...TAGS].sort());
    const json = await cli(['tags', '--json', repo]);
    expect(JSON.parse(json.stdout).sort()).toEqual([...TAGS].sort());
  });

  it('tags filters by semver range, sorts, and finds the latest', async () => {
    const ranged = await cli(['tags', '--semver', '>=1.2 <2', repo]);
    expect(ranged.stdout.trim().split('\n')).toEqual(['1.2.3', 'v1.3.0']);
    const latest = await cli(['tags', '--latest', repo]);
    expect(latest.stdout.trim()).toBe('v1.3.0');
    const withPre = await cli(['tags', '--latest', '--prerelease', '--semver', '>=2.0.0-0', repo]);
    expect(withPre.stdout.trim()).toBe('3.22-alpine');
    const strict = await cli(['tags', '--strict', '--sort', 'semver', '--semver', '*', repo]);
    expect(strict.stdout.trim().split('\n')).toEqual(['1.0.0', '1.2.3', 'v1.3.0']);
    const bad = await cli(['tags', '--semver', '>=>1', repo]);
    expect(bad.code).toBe(2);
  });

  it('digest equals skopeo inspect --format {{.Digest}}', async () => {
    const expected = await skopeoDigest(`docker://${repo}:1.2.3`, skopeoOpts());
    const r = await cli(['digest', `${repo}:1.2.3`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${expected}\n`);
    expect(expected).toBe(multi.digest);
    const img = await cli(['digest', `${imageRepo}:one`]);
    expect(img.stdout.trim()).toBe(await skopeoDigest(`docker://${imageRepo}:one`, skopeoOpts()));
  });

  it('digest --platform resolves one platform inside the index', async () => {
    const arm = multi.images.find((i) => i.platform.architecture === 'arm64');
    const r = await cli(['digest', '--platform', 'linux/arm64', `${repo}:latest`]);
    expect(r.stdout.trim()).toBe(arm?.manifest.digest);
    const missing = await cli(['digest', '--platform', 'linux/s390x', `${repo}:latest`]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/linux\/amd64/);
    // A single-platform image answers only for its own platform.
    const own = await cli(['digest', '--json', '--platform', 'linux/amd64', `${imageRepo}:one`]);
    expect(JSON.parse(own.stdout).digest).toBe(single.digest);
    const other = await cli(['digest', '--platform', 'linux/arm64', `${imageRepo}:one`]);
    expect(other.code).toBe(4);
    expect(other.stderr).toMatch(/linux\/amd64 only/);
  });

  it('manifest get --raw writes the exact bytes skopeo stored', async () => {
    const r = await cli(['manifest', 'get', '--raw', `${repo}:1.0.0`]);
    expect(r.code).toBe(0);
    expect(`sha256:${createHash('sha256').update(r.stdoutBytes).digest('hex')}`).toBe(multi.digest);
    const raw = await skopeoInspect(`docker://${repo}:1.0.0`, { ...skopeoOpts(), raw: true });
    expect(JSON.parse(r.stdout)).toEqual(raw);
    const pretty = await cli(['manifest', 'get', '--platform', 'linux/amd64', `${repo}:1.0.0`]);
    expect(JSON.parse(pretty.stdout).layers).toHaveLength(2);
  });

  it('inspect --json of an index lists platforms with digests and image sizes', async () => {
    const r = await cli(['inspect', '--json', `${repo}:latest`]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.kind).toBe('index');
    expect(result.digest).toBe(multi.digest);
    expect(result.annotations['org.opencontainers.image.source']).toBe('https://example.invalid/app');
    expect(result.manifests.map((m: { platform: string; digest: string }) => [m.platform, m.digest])).toEqual(
      multi.images.map((i) => [i.platform.variant ? `${i.platform.os}/${i.platform.architecture}/${i.platform.variant}` : `${i.platform.os}/${i.platform.architecture}`, i.manifest.digest]),
    );
    for (const [n, m] of result.manifests.entries()) {
      expect(m.imageSize).toBe(multi.images[n]!.layers.reduce((s, l) => s + l.descriptor.size, 0));
    }
  });

  it('inspect --json of an image agrees with skopeo inspect', async () => {
    const r = await cli(['inspect', '--json', `${imageRepo}:one`]);
    expect(r.code).toBe(0);
    const mine = JSON.parse(r.stdout);
    const theirs = (await skopeoInspect(`docker://${imageRepo}:one`, skopeoOpts())) as {
      Digest: string;
      Layers: string[];
      Architecture: string;
      Os: string;
      Env: string[];
      Labels: Record<string, string>;
      Created: string;
    };
    expect(mine.kind).toBe('image');
    expect(mine.digest).toBe(theirs.Digest);
    expect(mine.layers.map((l: { digest: string }) => l.digest)).toEqual(theirs.Layers);
    expect(mine.architecture).toBe(theirs.Architecture);
    expect(mine.os).toBe(theirs.Os);
    expect(mine.env).toEqual(theirs.Env);
    expect(mine.labels).toEqual(theirs.Labels);
    expect(new Date(mine.created).getTime()).toBe(new Date(theirs.Created).getTime());
    expect(mine.exposedPorts).toEqual(['8080/tcp']);
    expect(mine.totalSize).toBe(single.images[0]!.layers.reduce((s, l) => s + l.descriptor.size, 0));
  });

  it('inspect prints a human summary with layers and total', async () => {
    const r = await cli(['inspect', `${imageRepo}:one`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Platform:\s+linux\/amd64/);
    expect(r.stdout).toMatch(/3 layers, .* in total/);
    for (const l of single.images[0]!.layers) expect(r.stdout).toContain(l.descriptor.digest);
  });

  it('catalog lists the repositories', async () => {
    const r = await cli(['catalog', '--json', registry.host]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['team/app', 'team/single']);
  });

  it('a missing tag exits 4 with a hint', async () => {
    const r = await cli(['digest', `${repo}:nope`]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/MANIFEST_UNKNOWN/);
    expect(r.stderr).toMatch(/hint: /);
  });

  it('--debug logs requests but never the password or a token', async () => {
    const r = await cli(['--debug', 'inspect', `${repo}:latest`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/debug: /);
    expect(r.stderr).toContain('/v2/team/app/manifests/latest');
    expect(r.stderr).not.toContain(registry.password as string);
    // Every JWT starts with the base64 of '{"': no token may appear, in any header or body.
    expect(r.stderr).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    const login = await cli(['--debug', 'login', registry.host, '-u', registry.username as string, '--password-stdin'], `${registry.password}\n`);
    expect(login.code).toBe(0);
    expect(login.stderr).not.toContain(registry.password as string);
    expect(login.stderr).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    expect(login.stderr).not.toContain(Buffer.from(`${registry.username}:${registry.password}`).toString('base64'));
  });

  it('without the CA the TLS failure exits 6 with a hint', async () => {
    const r = await runCli(['digest', `${repo}:latest`], { env });
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/hint: .*--ca-file/);
  });

  it('logout removes the credentials, and then the registry refuses', async () => {
    const out = await cli(['logout', registry.host]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Removing login credentials/);
    const config = JSON.parse(await readFile(join(env.DOCKER_CONFIG as string, 'config.json'), 'utf8'));
    expect(config.auths[registry.host]).toBeUndefined();
    const r = await cli(['tags', repo]);
    expect(r.code).toBe(3);
    const again = await cli(['logout', registry.host]);
    expect(again.stdout).toMatch(/Not logged in/);
  });
});
