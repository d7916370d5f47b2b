import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

let dir: string;
let layout: OciLayoutResult;
beforeAll(async () => {
  dir = await makeTempDir('skopeo-flags');
  layout = await buildOciLayout(join(dir, 'src'), { tag: 'v1', platforms: ['linux/amd64', 'linux/arm64'], layers: 1, layerSize: 500, seed: 'skopeo-flags', mediaTypes: 'oci' });
});
afterAll(async () => {
  await removeTempDir(dir);
});

describe("skopeo's copy flags", () => {
  it('--all and --preserve-digests are accepted and change nothing: the whole index, its digest kept', async () => {
    const env = { HOME: dir, GANTRY_HOME: join(dir, 'store'), DOCKER_CONFIG: join(dir, 'docker') };
    const r = await runCli(['copy', '-q', '--all', '--preserve-digests', `oci:${layout.dir}:v1`, `oci:${join(dir, 'out')}:v1`], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(layout.digest);
  });

  it('--preserve-digests with several --platform values is refused: the subset would be a new index', async () => {
    const env = { HOME: dir, GANTRY_HOME: join(dir, 'store'), DOCKER_CONFIG: join(dir, 'docker') };
    const r = await runCli(['copy', '--preserve-digests', '--platform', 'linux/amd64', '--platform', 'linux/arm64', `oci:${layout.dir}:v1`, `oci:${join(dir, 'out2')}:v1`], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--preserve-digests/);
    const one = await runCli(['copy', '-q', '--preserve-digests', '--platform', 'linux/arm64', `oci:${layout.dir}:v1`, `oci:${join(dir, 'out3')}:v1`], { env });
    expect(one.code).toBe(0);
    expect(one.stdout.trim()).toBe(layout.images.find((i) => i.platform.architecture === 'arm64')?.manifest.digest);
  });
});
