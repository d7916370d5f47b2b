#!/usr/bin/env node
// Runs before `npm start` and `npm test` so that a fresh clone needs nothing but
// Node and npm: install packages when missing or stale, build when the sources
// are newer than the build, and (for tests) make sure the real components the
// suite runs against are present. Node built-ins only: nothing is installed yet.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const forTests = process.argv.includes('--test');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function log(message) {
  process.stderr.write(`gantry setup: ${message}\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) {
    log(`\`${[cmd, ...args].join(' ')}\` failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function newestIn(dir) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(p) : mtime(p));
  }
  return newest;
}

// Two test runs at once (two terminals, or vitest started twice) must not
// both run `npm ci`: the second empties node_modules under the first. One
// holds this lock for steps 1 and 2; the others wait, then find nothing to do.
const lock = join(root, '.tmp', 'setup.lock');
const lockOwner = join(lock, 'pid');
const STALE_LOCK_MS = 15 * 60_000;
function acquire() {
  mkdirSync(dirname(lock), { recursive: true });
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let waited = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(lockOwner, String(process.pid));
      // Released however this script ends: `run` exits the process on a failure.
      process.on('exit', release);
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    // A holder killed by a signal (Ctrl-C during `npm ci`) runs no 'exit' handler and leaves its
    // lock behind: break it once its process is gone, or when it is older than any setup takes.
    if (holderDied() || Date.now() - mtime(lock) > STALE_LOCK_MS) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!waited) log('waiting for another setup (npm ci / build) to finish…');
    waited = true;
    Atomics.wait(sleeper, 0, 0, 250);
  }
}

/** True when the lock names a process that no longer runs; false while its holder lives, or has not written its pid yet. */
function holderDied() {
  let pid;
  try {
    pid = Number(readFileSync(lockOwner, 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return false;
    throw err;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: it runs, as another user.
    if (err.code === 'ESRCH') return true;
    if (err.code === 'EPERM') return false;
    throw err;
  }
}

function release() {
  // Once: the explicit release before step 3 must not let the 'exit' handler remove
  // a lock another setup has taken since.
  process.off('exit', release);
  rmSync(lock, { recursive: true, force: true });
}

acquire();
// 1. npm packages: missing, or the lock file changed since the last install.
const installedLock = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installedLock) || mtime(join(root, 'package-lock.json')) > mtime(installedLock)) {
  log('installing npm packages (npm ci)…');
  run(npm, ['ci', '--no-audit', '--no-fund', '--ignore-scripts']);
}

// 2. Build when any source is newer than the build output.
const built = Math.min(mtime(join(root, 'dist', 'cli', 'main.js')), mtime(join(root, 'dist', 'gantry.cjs')));
const sources = Math.max(newestIn(join(root, 'src')), mtime(join(root, 'tsconfig.json')), mtime(join(root, 'tsconfig.build.json')));
if (built === 0 || sources > built) {
  log('building (npm run build)…');
  run(npm, ['run', 'build', '--silent']);
}
release();

// 3. The real components the test suite runs against.
if (forTests) {
  const needed = {
    'docker-registry': 'docker-registry',
    skopeo: 'skopeo',
    'gnome-keyring-daemon': 'gnome-keyring',
    'dbus-run-session': 'dbus',
    'dbus-daemon': 'dbus',
    openssl: 'openssl',
    htpasswd: 'apache2-utils',
    dockerd: 'docker.io',
  };
  // docker.io's recommends (apparmor, cgroupfs-mount, git, needrestart, …) are not needed to run
  // dockerd for `docker load` tests, so it is installed without them.
  const noRecommends = new Set(['docker.io']);
  const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
  const missing = [...new Set(Object.entries(needed).filter(([bin]) => !has(bin)).map(([, pkg]) => pkg))];
  if (missing.length > 0) {
    const plain = missing.filter((pkg) => !noRecommends.has(pkg));
    const lean = missing.filter((pkg) => noRecommends.has(pkg));
    const installs = [
      ...(plain.length > 0 ? [['apt-get', 'install', '-y', ...plain]] : []),
      ...(lean.length > 0 ? [['apt-get', 'install', '-y', '--no-install-recommends', ...lean]] : []),
    ];
    const install = ['apt-get update', ...installs.map((args) => `sudo ${args.join(' ')}`)].join(' && ');
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const canSudo = !isRoot && has('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
    if (!has('apt-get') || (!isRoot && !canSudo)) {
      log(`the tests need Debian packages that are missing: ${missing.join(', ')}`);
      log(`install them with:\n\n    sudo ${install}\n`);
      process.exit(1);
    }
    log(`installing ${missing.join(', ')} with apt-get…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const prefix = isRoot ? [] : ['sudo', '-n', '-E'];
    for (const args of [['apt-get', 'update'], ...installs]) {
      const [cmd, ...rest] = [...prefix, ...args];
      run(cmd, rest, { env });
    }
  }
  try {
    execFileSync('skopeo', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    log(`skopeo is installed but does not run: ${err.message}`);
    process.exit(1);
  }
}
