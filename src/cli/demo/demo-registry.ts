import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync } from 'node:fs';
import { access, readFile, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { GantryError } from '../../errors/index.js';
import { sleep, throwIfAborted } from '../../internal/abort.js';
import { errorCode } from '../../internal/blob-file.js';
import { makeDirs } from '../../internal/make-dirs.js';

/** The Debian package and binary of the CNCF distribution registry. */
export const REGISTRY_BINARY = 'docker-registry';

export interface DemoRegistryOptions {
  /** An empty directory the registry may own: its config, storage and log go here. */
  dir: string;
  /** Where to look for the binary (`PATH`). */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** How long to wait for `/v2/` to answer (default 15 s). */
  readyTimeoutMs?: number;
}

/** A running throwaway registry. */
export interface DemoRegistry {
  /** `127.0.0.1:PORT`, the registry part of a reference. */
  host: string;
  /** `docker-registry --version`, when it said. */
  version: string | undefined;
  /** The registry's own log (stdout and stderr). */
  logFile: string;
  /** SIGTERM, then SIGKILL if it lingers; resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL now, synchronously: for a process `exit` hook, where nothing can be awaited. */
  killNow(): void;
}

const PORT_ATTEMPTS = 3;
const STOP_GRACE_MS = 5_000;
const POLL_MS = 50;

/**
 * Start the distribution registry (`docker-registry serve`) on 127.0.0.1, on
 * a free port, with its storage in `dir`, and wait until `/v2/` answers 200.
 * Plain HTTP, no auth, deletes enabled: a registry for one demo, reachable
 * only from this machine.
 *
 * @throws GantryError NOT_FOUND when the binary is not on PATH (the hint is
 *   the exact install command); REGISTRY_ERROR when it exits early or is not
 *   ready in time (with the tail of its log); INTERRUPTED on abort. Whatever
 *   it started is stopped before it throws.
 */
export async function startDemoRegistry(options: DemoRegistryOptions): Promise<DemoRegistry> {
  const binary = await findExecutable(REGISTRY_BINARY, options.env.PATH ?? '');
  if (binary === undefined) throw missingRegistry();
  const storage = join(options.dir, 'storage');
  const configFile = join(options.dir, 'config.yml');
  const logFile = join(options.dir, 'registry.log');
  await makeDirs(storage);
  const version = await registryVersion(binary);
  // distribution maps REGISTRY_* variables onto its config: keep the user's out of the demo's.
  const env = Object.fromEntries(Object.entries(options.env).filter(([k]) => !k.startsWith('REGISTRY_')));

  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    throwIfAborted(options.signal);
    const port = await freePort();
    // YAML is a superset of JSON: the config is written as JSON, no YAML library needed.
    await writeFile(configFile, `${JSON.stringify(registryConfig(storage, port), null, 2)}\n`);
    const child = launch(binary, configFile, logFile, env);
    const outcome = await waitReady(child, port, logFile, options);
    if (outcome === 'ready') return running(child, `127.0.0.1:${port}`, version, logFile);
    // Another process took the port between our probe and the registry's bind: try another.
  }
  throw new GantryError('REGISTRY_ERROR', `${REGISTRY_BINARY} could not bind a port on 127.0.0.1 after ${PORT_ATTEMPTS} attempts`, {
    details: { log: await tail(logFile) },
  });
}

function registryConfig(storage: string, port: number): Record<string, unknown> {
  return {
    version: '0.1',
    log: { level: 'warn', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: storage },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(24).toString('hex') },
    health: { storagedriver: { enabled: false } },
  };
}

function launch(binary: string, configFile: string, logFile: string, env: NodeJS.ProcessEnv): ChildProcess {
  const log = openSync(logFile, 'a');
  try {
    return spawn(binary, ['serve', configFile], { stdio: ['ignore', log, log], env });
  } finally {
    closeSync(log);
  }
}

async function waitReady(child: ChildProcess, port: number, logFile: string, options: DemoRegistryOptions): Promise<'ready' | 'port-taken'> {
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
  try {
    while (Date.now() < deadline) {
      if (spawnError) throw new GantryError('REGISTRY_ERROR', `cannot run ${REGISTRY_BINARY}: ${spawnError.message}`, { cause: spawnError });
      if (child.exitCode !== null || child.signalCode !== null) {
        const log = await tail(logFile);
        if (/address already in use/.test(log)) return 'port-taken';
        throw new GantryError('REGISTRY_ERROR', `${REGISTRY_BINARY} exited with ${child.exitCode ?? child.signalCode} before it answered`, {
          hint: `its log: ${logFile}`,
          details: { log },
        });
      }
      if ((await probe(port)) === 200) return 'ready';
      await sleep(POLL_MS, options.signal);
    }
    throw new GantryError('REGISTRY_ERROR', `${REGISTRY_BINARY} did not answer on 127.0.0.1:${port} within ${options.readyTimeoutMs ?? 15_000} ms`, {
      details: { log: await tail(logFile) },
    });
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

function running(child: ChildProcess, host: string, version: string | undefined, logFile: string): DemoRegistry {
  let stopping: Promise<void> | undefined;
  return {
    host,
    version,
    logFile,
    stop() {
      stopping ??= stopChild(child);
      return stopping;
    },
    killNow() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** SIGTERM (distribution shuts its server down), then SIGKILL; resolves once it has exited. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    if (await exited(child, STOP_GRACE_MS)) return;
  }
  throw new GantryError('REGISTRY_ERROR', `${REGISTRY_BINARY} (pid ${child.pid}) did not exit after SIGKILL`);
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The status of one `GET /v2/`, or undefined while nothing answers. */
function probe(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/v2/', timeout: 1_000, agent: false });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    // Refused while the registry starts: the caller polls again.
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** A TCP port free on 127.0.0.1 right now (released again before this resolves, hence the caller's retries). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** The first executable file named `name` in the directories of `path`. */
export async function findExecutable(name: string, path: string): Promise<string | undefined> {
  for (const dir of path.split(delimiter).filter((d) => d !== '')) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch (err) {
      if (!['ENOENT', 'EACCES', 'ENOTDIR'].includes(errorCode(err) ?? '')) throw err;
    }
  }
  return undefined;
}

/** The exact command that installs the registry on Debian and Ubuntu, as root or through sudo. */
export function installCommand(): string {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = root ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}apt-get install -y ${REGISTRY_BINARY}`;
}

function missingRegistry(): GantryError {
  return new GantryError('NOT_FOUND', `the demo runs a throwaway registry, and ${REGISTRY_BINARY} (the CNCF distribution registry) is not on PATH`, {
    hint: `install it with: ${installCommand()}`,
    details: { binary: REGISTRY_BINARY, install: installCommand() },
  });
}

function registryVersion(binary: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(binary, ['--version'], { timeout: 5_000 }, (err, stdout) => {
      // The version only decorates the demo's introduction; a binary that cannot say is still usable.
      // Debian's prints `/usr/bin/docker-registry github.com/docker/distribution 2.8.2+ds1`.
      const words = err ? [] : stdout.trim().split(/\s+/);
      resolve(words.length >= 2 ? `${words.at(-2)?.split('/').at(-1)} ${words.at(-1)}` : undefined);
    });
  });
}

async function tail(file: string, lines = 20): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return '';
    throw err;
  }
}
