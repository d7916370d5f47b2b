import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOciLayout } from '../helpers/oci-fixtures.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// How push reads its arguments; every case here fails before any request (the registry port is closed).
let dir: string;
let twoImages: string;
const REG = '127.0.0.1:1';

beforeAll(async () => {
  dir = await makeTempDir('push-arguments');
  twoImages = join(dir, 'two');
  for (const tag of ['1.0', '2.0']) await buildOciLayout(twoImages, { tag, layers: 1, layerSize: 300, seed: `push-args-${tag}`, mediaTypes: 'oci' });
});
afterAll(async () => {
  await removeTempDir(dir);
});

const push = (...args: string[]) => runCli(['push', ...args], { env: { HOME: dir, GANTRY_HOME: join(dir, 'store'), DOCKER_CONFIG: join(dir, 'docker') } });

describe('push arguments', () => {
  it('a source of several images needs --all-tags', async () => {
    const r = await push(`oci:${twoImages}`, `${REG}/team/app`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds 2 images/);
    expect(r.stderr).toMatch(/--all-tags/);
  });

  it('--all-tags with an image of the local store is refused: it reads layouts and archives', async () => {
    const r = await push('--all-tags', 'app:1.4', `${REG}/team/app`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/local store/);
  });

  it('push REF takes local:REF, and refuses docker://REF with a hint', async () => {
    const local = await push('local:app:1.4');
    expect(local.code).toBe(4);
    expect(local.stderr).toMatch(/no image .*app:1\.4 in the local store/);
    const remote = await push(`docker://${REG}/team/app:1`);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/hint: .*pull or copy/);
  });

  it('push REF1 REF2 reads REF1 from the local store, and says how to copy from a registry instead', async () => {
    const r = await push(`${REG}/team/app:1`, `${REG}/other/app:1`);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/local store/);
    expect(r.stderr).toMatch(/gantry copy 127\.0\.0\.1:1\/team\/app:1 127\.0\.0\.1:1\/other\/app:1/);
  });

  it('--all-tags with a registry source is refused, pointing at copy --all-tags', async () => {
    const r = await push('--all-tags', `docker://${REG}/team/app`, `${REG}/other/app`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gantry copy --all-tags 127\.0\.0\.1:1\/team\/app 127\.0\.0\.1:1\/other\/app/);
  });

  it('the destination may be written docker://REF', async () => {
    // Refused by the closed port, not by the parser.
    const r = await push(`oci:${twoImages}:1.0`, `docker://${REG}/team/app:1.0`);
    expect(r.code).toBe(6);
  });
});
