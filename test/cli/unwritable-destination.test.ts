import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

let dir: string;
let layout: OciLayoutResult;
beforeAll(async () => {
  dir = await makeTempDir('unwritable');
  layout = await buildOciLayout(join(dir, 'src'), { tag: 'v1', layers: 1, layerSize: 1000, seed: 'unwritable', mediaTypes: 'oci' });
  await writeFile(join(dir, 'a-file'), 'x');
});
afterAll(async () => {
  await removeTempDir(dir);
});

const env = () => ({ HOME: dir, GANTRY_HOME: join(dir, 'store'), DOCKER_CONFIG: join(dir, 'docker'), GANTRY_CONFIG: join(dir, 'gantry.json') });

describe('a destination that cannot be written', () => {
  it('under a file: exits 1 with FILE_ERROR and the system’s message, not an internal error', async () => {
    for (const dst of [`oci:${join(dir, 'a-file', 'layout')}:v1`, `oci-archive:${join(dir, 'a-file', 'x.tar')}`, `docker-archive:${join(dir, 'a-file', 'x.tar')}`]) {
      const r = await runCli(['copy', `oci:${layout.dir}:v1`, dst], { env: env() });
      expect({ dst, code: r.code }).toEqual({ dst, code: 1 });
      expect(r.stderr).toMatch(/^error: ENOTDIR: /m);
      expect(r.stderr).toMatch(/^hint: .*file where a directory belongs/m);
      expect(r.stderr).not.toMatch(/internal error|bug in gantry/);
    }
  });

  it('--json reports it as FILE_ERROR on stderr', async () => {
    const r = await runCli(['copy', '--json', `oci:${layout.dir}:v1`, `oci:${join(dir, 'a-file', 'layout')}:v1`], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'FILE_ERROR' } });
  });

  // node 20's recursive mkdir spins for ever there; gantry must fail instead.
  it.runIf(process.platform === 'linux')('in /proc: fails at once instead of hanging', async () => {
    for (const dst of [`oci:/proc/gantry-test-layout:v1`, `oci-archive:/proc/gantry-test.tar`, `docker-archive:/proc/gantry-test.tar`]) {
      const r = await runCli(['copy', `oci:${layout.dir}:v1`, dst], { env: env() });
      expect({ dst, code: r.code }).toEqual({ dst, code: 1 });
      expect(r.stderr).toMatch(/FILE_ERROR|^error: E[A-Z]+: /m);
    }
  });
});
