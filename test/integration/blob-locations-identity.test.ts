import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// Remembered blob locations (state/blob-locations.json) are kept per identity: a second user of
// the same GANTRY_HOME is never offered, nor names in a token request, what only the first reached.

let registry: RunningRegistry;
let work: string;
let layout: OciLayoutResult;
const users = [
  { username: 'alice', password: 'alice-password-1', access: [{ name: '*', actions: ['*'] }] },
  { username: 'carol', password: 'carol-password-1', access: [{ name: 'team/*', actions: ['pull', 'push'] }] },
];

async function envFor(username: string): Promise<NodeJS.ProcessEnv> {
  const user = users.find((u) => u.username === username);
  if (!user) throw new Error(`no user ${username}`);
  const dockerConfig = join(work, `docker-${username}`);
  await mkdir(dockerConfig, { recursive: true });
  const auth = Buffer.from(`${user.username}:${user.password}`).toString('base64');
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth } } }));
  return { HOME: work, DOCKER_CONFIG: dockerConfig, GANTRY_CONFIG: join(work, 'gantry.json'), GANTRY_HOME: join(work, 'shared-home') };
}

const push = async (username: string, repository: string) => {
  const r = await runCli(['--ca-file', registry.caFile as string, 'push', '--json', `oci:${layout.dir}:v1`, `${registry.host}/${repository}:v1`], { env: await envFor(username) });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { bytesSent: number; blobs: Array<{ action: string; mountedFrom?: string }> };
};

beforeAll(async () => {
  work = await makeTempDir('blob-locations-identity');
  registry = await startRegistry({ mode: 'token-tls', users });
  layout = await buildOciLayout(join(work, 'layout'), { tag: 'v1', layers: 2, layerSize: 16 * 1024, seed: 'identity', mediaTypes: 'oci' });
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  await removeTempDir(work);
});

describe('remembered blob locations and identities', () => {
  it("a user's pushes mount from the repositories that user pushed to", async () => {
    expect((await push('alice', 'secret/app')).blobs.every((b) => b.action === 'copied')).toBe(true);
    const again = await push('alice', 'secret/copy');
    expect(again.bytesSent).toBe(0);
    expect(again.blobs.every((b) => b.action === 'mounted' && b.mountedFrom === 'secret/app')).toBe(true);
  });

  it("another user of the same GANTRY_HOME is not offered them: no mount from, and no token scope for, alice's repositories", async () => {
    registry.tokenIssuer?.resetRequests();
    const before = (await registry.accessLog()).length;
    const carol = await push('carol', 'team/app');
    expect(carol.blobs.every((b) => b.action === 'copied')).toBe(true);
    const requests = (await registry.accessLog()).slice(before);
    expect(requests.filter((e) => e.path.includes('mount='))).toEqual([]);
    const scopes = (registry.tokenIssuer?.requests ?? []).flatMap((q) => q.scopes);
    expect(scopes.length).toBeGreaterThan(0);
    expect(scopes.filter((s) => s.includes('secret/'))).toEqual([]);
  });
});
