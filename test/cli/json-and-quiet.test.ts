import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

describe('--json with --quiet', () => {
  it('is a usage error before any work, not one of them silently', async () => {
    for (const args of [
      ['copy', '--json', '-q', 'oci:/nonexistent/a:1', 'oci:/nonexistent/b:1'],
      ['pull', '--json', '--quiet', '127.0.0.1:1/app:1'],
    ]) {
      const r = await runCli(args, { env: { HOME: '/nonexistent', GANTRY_HOME: '/nonexistent/store', DOCKER_CONFIG: '/nonexistent/docker' } });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/--json and --quiet/);
    }
  });
});
