import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMswServer, type MswServer } from '../helpers/msw-server.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { imageFixture, registryHandlers, repositoryWith, tokenHandlers } from '../providers/fake-registry.js';

// The CLI against Docker Hub's behaviour (served by msw on loopback, reached
// through gantry's `registry-endpoints` setting): docker.io credentials under
// docker's `https://index.docker.io/v1/` key, tokens from a separate realm, and
// the ratelimit headers.

let hub: MswServer;
let auth: MswServer;
let work: string;
const issued: string[] = [];
const image = imageFixture('hub');

beforeAll(async () => {
  hub = await startMswServer();
  auth = await startMswServer();
  hub.use(
    ...registryHandlers({
      origin: hub.origin,
      auth: { scheme: 'bearer', realm: `${auth.origin}/token`, service: 'registry.docker.io' },
      repositories: { 'library/alpine': repositoryWith(image, { public: true, tags: ['3.20', '3.19'] }), 'alice/private': repositoryWith(image) },
      manifestHeaders: { 'ratelimit-limit': '200;w=21600', 'ratelimit-remaining': '187;w=21600', 'docker-ratelimit-source': 'alice' },
    }),
  );
  auth.use(...tokenHandlers({ realm: `${auth.origin}/token`, service: 'registry.docker.io', users: { alice: 'dckr_pat_s3cret' }, publicRepositories: ['library/alpine'], issued }));
  work = await makeTempDir('cli-hub');
});

afterAll(async () => {
  await hub.close();
  await auth.close();
  await removeTempDir(work);
});

async function envWith(auths: Record<string, unknown>): Promise<NodeJS.ProcessEnv> {
  const dir = await makeTempDir('cli-hub-env');
  await mkdir(join(dir, 'docker'));
  await writeFile(join(dir, 'docker', 'config.json'), JSON.stringify({ auths }));
  await writeFile(join(dir, 'gantry.json'), JSON.stringify({ 'registry-endpoints': { 'docker.io': hub.origin }, 'insecure-registries': ['docker.io'] }));
  return { HOME: dir, DOCKER_CONFIG: join(dir, 'docker'), GANTRY_CONFIG: join(dir, 'gantry.json') };
}

describe('gantry against Docker Hub', () => {
  it('ratelimit reports the allowance from the headers of a HEAD', async () => {
    const env = await envWith({ 'https://index.docker.io/v1/': { auth: Buffer.from('alice:dckr_pat_s3cret').toString('base64') } });
    const r = await runCli(['ratelimit', '--json', 'alpine'], { env });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ registry: 'docker.io', limit: 200, remaining: 187, windowSeconds: 21600, source: 'alice' });
    expect(hub.requests.some((q) => q.method === 'HEAD' && q.url.endsWith('/v2/library/alpine/manifests/latest'))).toBe(true);
    const human = await runCli(['ratelimit', 'alpine'], { env });
    expect(human.stdout).toMatch(/Limit:\s+200 per 6h/);
    expect(human.stdout).toMatch(/Remaining:\s+187/);
  });

  it('reads docker.io credentials saved under https://index.docker.io/v1/ for a private repository', async () => {
    const env = await envWith({ 'https://index.docker.io/v1/': { auth: Buffer.from('alice:dckr_pat_s3cret').toString('base64') } });
    const r = await runCli(['digest', 'alice/private'], { env });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(image.manifestDigest);
  });

  it('pulls public images anonymously and refuses private ones with exit 3', async () => {
    const env = await envWith({});
    const tags = await runCli(['tags', 'alpine'], { env });
    expect(tags.stdout.trim().split('\n').sort()).toEqual(['3.19', '3.20', 'latest', 'latest-index']);
    const denied = await runCli(['digest', 'alice/private'], { env });
    expect(denied.code).toBe(3);
    expect(denied.stderr).toMatch(/hint: .*gantry login/);
  });

  it('a failing credential helper is an error, not anonymous access', async () => {
    const dir = await makeTempDir('cli-hub-helper');
    await mkdir(join(dir, 'docker'));
    await writeFile(join(dir, 'docker', 'config.json'), JSON.stringify({ credsStore: 'gantry-missing-helper' }));
    await writeFile(join(dir, 'gantry.json'), JSON.stringify({ 'registry-endpoints': { 'docker.io': hub.origin }, 'insecure-registries': ['docker.io'] }));
    const r = await runCli(['tags', 'alpine'], { env: { HOME: dir, DOCKER_CONFIG: join(dir, 'docker'), GANTRY_CONFIG: join(dir, 'gantry.json') } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/docker-credential-gantry-missing-helper/);
  });
});
