import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from './tmp.js';

/**
 * A real Docker daemon (Debian's `docker.io`, Docker 20.10) for interop
 * tests: its own data root, exec root and unix socket in a temp dir, vfs
 * storage (works on any filesystem, no overlay mounts), and no iptables,
 * bridge or systemd, so it runs in a bare container. Needs root.
 */

/** What a `docker` client run printed. */
export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface DockerDaemon {
  /** `unix:///…/docker.sock`. */
  host: string;
  /** An environment for docker clients: PATH, DOCKER_HOST and a private DOCKER_CONFIG (never ~/.docker). */
  env: NodeJS.ProcessEnv;
  /** Run the `docker` client against this daemon; never rejects on a non-zero exit. Killed after `timeoutMs` (default 30 s). */
  docker(args: string[], options?: { timeoutMs?: number }): Promise<DockerResult>;
  /** The last `lines` lines of dockerd's log. */
  logTail(lines?: number): Promise<string>;
  /** Stop dockerd (and its containerd) and remove the temp dir. Idempotent; throws if dockerd outlives SIGKILL. */
  stop(): Promise<void>;
}

export interface StartDockerDaemonOptions {
  /** How long to wait for the API to answer; default 30 s. */
  readyTimeoutMs?: number;
}

/** dockerd shuts containerd down first, which takes 1-3 s. */
const STOP_GRACE_MS = 15_000;
const KILL_WAIT_MS = 5_000;
const POLL_MS = 100;
/** sun_path is 108 bytes on Linux; containerd's socket is the longest path under the temp dir. */
const MAX_SOCKET_PATH = 100;

const liveDaemons = new Map<ChildProcess, string>();
let exitHookInstalled = false;

/** Never leave a daemon (or the containerd it started in its own session) running after the test process is gone. */
function track(child: ChildProcess, execRoot: string): void {
  liveDaemons.set(child, execRoot);
  child.once('exit', () => liveDaemons.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [c, root] of liveDaemons) {
      c.kill('SIGKILL');
      killContainerdSync(root);
    }
  });
}

function containerdPidFile(execRoot: string): string {
  return join(execRoot, 'containerd', 'containerd.pid');
}

/** containerd runs in its own session, so a SIGKILL'd dockerd leaves it behind: kill it by the pid file dockerd wrote. */
function killContainerdSync(execRoot: string): void {
  let text: string;
  try {
    text = readFileSync(containerdPidFile(execRoot), 'utf8');
  } catch (err) {
    // No pid file: containerd never started, or exited cleanly and removed it.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    // Already gone.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function tail(file: string, lines: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** One `GET /_ping` on the daemon's socket: true on 200, false when nothing (or something else) answered. */
function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1_000, agent: false });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    // ENOENT / ECONNREFUSED are expected until dockerd listens; the caller retries.
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** dockerd and the client read DOCKER_* (host, context, TLS, config): keep the caller's out. */
function withoutDockerVars(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('DOCKER_')));
}

/**
 * Start dockerd in a fresh temp dir and wait until its API answers `/_ping`
 * and the `docker` client reaches it. Throws a plain Error, with the tail of
 * dockerd's log, when dockerd cannot be run, exits early, or is not ready
 * within `readyTimeoutMs`; whatever it started is stopped and the temp dir
 * removed before it throws.
 */
export async function startDockerDaemon(options: StartDockerDaemonOptions = {}): Promise<DockerDaemon> {
  const root = await makeTempDir('dockerd');
  const execRoot = join(root, 'exec');
  const socket = join(root, 'docker.sock');
  const logFile = join(root, 'dockerd.log');
  const longest = join(execRoot, 'containerd', 'containerd.sock.ttrpc');
  if (Buffer.byteLength(longest) > MAX_SOCKET_PATH) {
    await removeTempDir(root);
    throw new Error(`the temp dir ${root} is too long for dockerd's unix sockets (${longest}): set TMPDIR to a short path such as /tmp`);
  }
  const host = `unix://${socket}`;
  const clientConfig = join(root, 'client-config');
  await mkdir(clientConfig);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, DOCKER_HOST: host, DOCKER_CONFIG: clientConfig };

  const docker = (args: string[], runOptions: { timeoutMs?: number } = {}): Promise<DockerResult> =>
    new Promise((resolve) => {
      execFile('docker', args, { env, timeout: runOptions.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        const killed = error?.killed ? `\n(killed after ${runOptions.timeoutMs ?? 30_000} ms)` : '';
        resolve({ code, stdout, stderr: `${stderr}${killed}` });
      });
    });

  const out = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      'dockerd',
      [
        '--iptables=false',
        '--ip6tables=false',
        '--bridge=none',
        '--storage-driver=vfs',
        '--data-root',
        join(root, 'data'),
        '--exec-root',
        execRoot,
        '--pidfile',
        join(root, 'docker.pid'),
        '-H',
        host,
      ],
      { stdio: ['ignore', out, out], env: withoutDockerVars(process.env) },
    );
  } finally {
    closeSync(out);
  }
  track(child, execRoot);
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });

  const stopDaemon = async (): Promise<void> => {
    if (!exited(child)) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, STOP_GRACE_MS))) {
        child.kill('SIGKILL');
        if (!(await waitForExit(child, KILL_WAIT_MS))) throw new Error(`dockerd pid ${child.pid} did not exit after SIGKILL`);
      }
    }
    // After a clean shutdown the pid file is gone; after SIGKILL or a crash it names an orphan.
    killContainerdSync(execRoot);
  };

  const fail = async (problem: string): Promise<never> => {
    const log = await tail(logFile, 40);
    await stopDaemon();
    await removeTempDir(root);
    throw new Error(`dockerd ${problem}; dockerd log tail:\n${log}`);
  };

  const readyTimeout = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + readyTimeout;
  for (;;) {
    if (spawnError) {
      const hint = (spawnError as NodeJS.ErrnoException).code === 'ENOENT' ? ' (install Debian docker.io: apt-get install -y --no-install-recommends docker.io)' : '';
      await fail(`could not be run: ${spawnError.message}${hint}`);
    }
    if (exited(child)) await fail(`exited with ${child.exitCode ?? child.signalCode} before its API answered`);
    if (await ping(socket)) break;
    if (Date.now() >= deadline) await fail(`did not answer /_ping within ${readyTimeout} ms`);
    await sleep(POLL_MS);
  }
  const version = await docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 });
  if (version.code !== 0) await fail(`answers /_ping, but \`docker version\` exited ${version.code}: ${version.stderr.trim()}`);

  let stopped = false;
  return {
    host,
    env,
    docker,
    logTail: (lines = 40) => tail(logFile, lines),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stopDaemon();
      await removeTempDir(root);
    },
  };
}
