import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Fail the whole run, loudly, when a real component the tests rely on is
 * missing: a test never skips for want of a dependency.
 */
export default function setup(): void {
  const missing: string[] = [];
  // htpasswd (apache2-utils) makes the bcrypt entries of the htpasswd-tls registry: node has no bcrypt.
  for (const bin of ['docker-registry', 'skopeo', 'openssl', 'htpasswd', 'dbus-run-session', 'gnome-keyring-daemon', 'dockerd']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      missing.push(bin);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `missing test dependencies: ${missing.join(', ')}\n` +
        'install them with: sudo apt-get update && sudo apt-get install -y docker-registry skopeo gnome-keyring dbus openssl apache2-utils && sudo apt-get install -y --no-install-recommends docker.io',
    );
  }
  // Tests that run the built executable need dist/ as fresh as src/: build when stale.
  // In CI a failed build fails the run; at a desk, half-written code elsewhere in
  // the tree should not stop the unit tests, so it only warns.
  try {
    execFileSync(process.execPath, [fileURLToPath(new URL('../../scripts/ensure-setup.mjs', import.meta.url))], { stdio: 'inherit' });
  } catch (err) {
    if (process.env.CI) throw err;
    process.stderr.write('warning: the build failed; tests that run bin/gantry.js use the previous build\n');
  }
}
