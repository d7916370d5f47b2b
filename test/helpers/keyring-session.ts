import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const INSTALL_HINT = 'the keychain tests need a D-Bus session bus and gnome-keyring: sudo apt-get install -y dbus gnome-keyring';

/** A private D-Bus session bus with an unlocked gnome-keyring Secret Service on it. */
export interface KeyringSession {
  /** The bus address: give it to a process as DBUS_SESSION_BUS_ADDRESS. */
  address: string;
  /** The variables a process needs to use this session's keyring. */
  env: { DBUS_SESSION_BUS_ADDRESS: string };
  /** The session's private directory (keyrings, runtime dir); removed by `stop`. */
  dir: string;
  /** Stop the daemons (bounded waits, then SIGKILL) and remove the directory. */
  stop(): Promise<void>;
}

/**
 * Start a `dbus-daemon` session bus on a socket in a temp directory, then
 * `gnome-keyring-daemon --unlock --components=secrets` on that bus with HOME
 * and the XDG directories inside the temp directory (the user's own keyrings
 * are never touched), and wait until its default collection exists. Throws an
 * Error naming the packages to install when a program is missing: the tests
 * fail rather than skip.
 */
export async function startKeyringSession(options: { password?: string; readyTimeoutMs?: number } = {}): Promise<KeyringSession> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-keyring-'));
  const runtimeDir = join(dir, 'run');
  const home = join(dir, 'home');
  await mkdir(runtimeDir, { mode: 0o700 });
  await mkdir(home, { mode: 0o700 });
  const children: ChildProcess[] = [];
  const killAll = (): void => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  // A crashed test run must not leave daemons behind.
  process.once('exit', killAll);

  const stop = async (): Promise<void> => {
    for (const child of [...children].reverse()) await terminate(child);
    process.removeListener('exit', killAll);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const busConfig = join(dir, 'session.conf');
    await writeFile(busConfig, busConfigFor(join(runtimeDir, 'bus')));
    const bus = startDaemon('dbus-daemon', ['--nofork', '--print-address=1', `--config-file=${busConfig}`], { PATH: process.env.PATH ?? '' });
    children.push(bus.child);
    const address = (await firstLine(bus, options.readyTimeoutMs ?? 10_000)).trim();

    const env = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      XDG_RUNTIME_DIR: runtimeDir,
      XDG_DATA_HOME: join(home, '.local', 'share'),
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_CACHE_HOME: join(home, '.cache'),
      DBUS_SESSION_BUS_ADDRESS: address,
    };
    const keyring = startDaemon('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], env);
    children.push(keyring.child);
    // --unlock reads the login keyring's password from stdin until EOF (and creates the keyring with it).
    keyring.child.stdin?.end(options.password ?? 'gantry-test');
    await waitForDefaultCollection(env, keyring, options.readyTimeoutMs ?? 10_000);

    return { address, env: { DBUS_SESSION_BUS_ADDRESS: address }, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A session bus configuration without service directories: the system's
 * session.conf would let the first Secret Service call D-Bus-activate a
 * second, locked gnome-keyring (`--start`) that wins the bus name.
 */
function busConfigFor(socket: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

/** A spawned daemon with its (bounded) stderr and any failure to start. */
interface Daemon {
  child: ChildProcess;
  stderr(): string;
  /** The error when the program could not be started, named for people. */
  startFailure(): Error | undefined;
}

function startDaemon(command: string, args: string[], env: Record<string, string>): Daemon {
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let failure: Error | undefined;
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk;
  });
  child.stdin?.on('error', (err: NodeJS.ErrnoException) => {
    // The daemon died before reading its input; its exit status and stderr say why.
    failure ??= new Error(`${command} did not read its input (${err.code ?? err.message}): ${stderr}`);
  });
  child.on('error', (err: NodeJS.ErrnoException) => {
    failure = new Error(err.code === 'ENOENT' ? `${command} is not installed: ${INSTALL_HINT}` : `${command}: ${err.message}`);
  });
  return { child, stderr: () => stderr, startFailure: () => failure };
}

/** The daemon's first stdout line, bounded in time. */
function firstLine(daemon: Daemon, timeoutMs: number): Promise<string> {
  const { child } = daemon;
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${child.spawnfile} printed nothing within ${timeoutMs} ms: ${daemon.stderr()}`)), timeoutMs);
    child.once('error', () => {
      clearTimeout(timer);
      reject(daemon.startFailure());
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${child.spawnfile} exited with ${code}: ${daemon.stderr()}`));
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        resolve(buffered.slice(0, newline));
      }
    });
  });
}

/** Poll the Secret Service until its `default` alias names a collection (bounded). */
async function waitForDefaultCollection(env: Record<string, string>, keyring: Daemon, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (let attempt = 0; Date.now() < deadline && attempt < 1000; attempt++) {
    const failure = keyring.startFailure();
    if (failure) throw failure;
    if (keyring.child.exitCode !== null) throw new Error(`gnome-keyring-daemon exited with ${keyring.child.exitCode}: ${keyring.stderr()}`);
    try {
      const { stdout } = await execFileAsync(
        'dbus-send',
        ['--session', '--print-reply', '--dest=org.freedesktop.secrets', '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.ReadAlias', 'string:default'],
        { env, timeout: 2000 },
      );
      // The reply is `object path "/org/freedesktop/secrets/collection/login"`, or "/" while there is none.
      if (/object path "\/org\/freedesktop\/secrets\/collection\//.test(stdout)) return;
      last = stdout;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`dbus-send is not installed: ${INSTALL_HINT}`);
      // The service is not on the bus yet, so dbus-send exits non-zero: retry.
      last = (err as { stderr?: string }).stderr ?? String(err);
    }
    await sleep(50);
  }
  throw new Error(`gnome-keyring's Secret Service was not ready within ${timeoutMs} ms: ${last} ${keyring.stderr()}`);
}

/** SIGTERM, wait up to 3 s, then SIGKILL and wait up to 2 s more. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  if (await Promise.race([exited.then(() => true), sleep(3000).then(() => false)])) return;
  child.kill('SIGKILL');
  await Promise.race([exited, sleep(2000)]);
}
