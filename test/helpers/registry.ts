import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { makeTempDir, removeTempDir } from './tmp.js';
import { createTestCA, issueServerCert, type TestCA } from './tls.js';
import { startTokenIssuer, type TokenIssuer, type TokenUser } from './token-issuer.js';

/**
 * A real CNCF distribution registry (Debian's `docker-registry` 2.8) for
 * integration tests and benchmarks, in one of three setups:
 * - `plain`: HTTP, no auth;
 * - `htpasswd-tls`: HTTPS with a generated CA, Basic auth from a bcrypt htpasswd file;
 * - `token-tls`: HTTPS, `auth: token` against a token issuer served over HTTPS with the same CA.
 */
export type RegistryMode = 'plain' | 'htpasswd-tls' | 'token-tls';

export interface StartRegistryOptions {
  mode: RegistryMode;
  /** `storage.delete.enabled`; default false, as in distribution. */
  deleteEnabled?: boolean;
  /** Users (htpasswd and token modes); default `DEFAULT_USERS`. Grants only matter in token mode. */
  users?: TokenUser[];
  /** Token mode: repository globs anonymous clients may pull. */
  publicRepositories?: string[];
  /** Token mode: token lifetime in seconds (default 300). */
  tokenExpiresIn?: number;
  /** Token mode: serve the OAuth2 POST form (default true). */
  oauth?: boolean;
  /** Deep-merged over the generated config; a `null` value deletes the key. */
  extraConfig?: Record<string, unknown>;
  /** Reuse a CA (it is not deleted by `stop`); default a fresh one per registry. */
  ca?: TestCA;
  /** distribution's `log.level`; default `info` (one line per request in `logFile`). */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /** How long to wait for `/v2/` to answer; default 15 s. */
  readyTimeoutMs?: number;
}

/** One line of the registry's access log (gorilla's Apache combined format on stdout). */
export interface AccessLogEntry {
  remote: string;
  time: string;
  method: string;
  /** Request URI, query included. */
  path: string;
  protocol: string;
  status: number;
  bytes: number;
  userAgent: string;
  raw: string;
}

export interface RunningRegistry {
  mode: RegistryMode;
  /** `127.0.0.1:PORT`, the registry part of a reference. */
  host: string;
  port: number;
  /** `http://127.0.0.1:PORT` or `https://…`. */
  url: string;
  /** The CA to trust (TLS modes). */
  caFile?: string;
  /** A dir holding only `ca.crt`, for skopeo `--*-cert-dir` (TLS modes). */
  certDir?: string;
  /** The first user's credentials (auth modes). */
  username?: string;
  password?: string;
  users: TokenUser[];
  /** The storage driver's root directory. */
  dataDir: string;
  configFile: string;
  /** The registry's application log (stderr). */
  logFile: string;
  /** The access log (stdout): one line per request. */
  accessLogFile: string;
  /** The token issuer (token mode). */
  tokenIssuer?: TokenIssuer;
  /**
   * Parsed access log lines, oldest first, without the harness's own
   * readiness probes. The registry writes a line before the response's last
   * bytes are flushed, so a request a client has seen complete is listed.
   */
  accessLog(): Promise<AccessLogEntry[]>;
  /** The last `lines` lines of the application log. */
  logTail(lines?: number): Promise<string>;
  /** Kill and start the registry again on the same port, config and storage. Throws if it does not come back. */
  restart(): Promise<void>;
  /** Stop the registry (and token issuer) and wait for exit; removes its files unless `keepFiles`. Idempotent. */
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

/** `alice` may do anything anywhere; `bob` may only pull. */
export const DEFAULT_USERS: readonly TokenUser[] = Object.freeze([
  {
    username: 'alice',
    password: 'alice-test-password',
    access: [
      { name: '*', actions: ['*'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ],
  },
  { username: 'bob', password: 'bob-test-password', access: [{ name: '*', actions: ['pull'] }] },
]);

const PROBE_AGENT = 'gantry-test-harness-probe';
const SERVICE = 'gantry-test-registry';
const ISSUER = 'gantry-test-issuer';
const BASIC_REALM = 'gantry-test-realm';
const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 3;
const run = promisify(execFile);

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Never leave a registry running after the test process is gone. */
function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of liveChildren) c.kill('SIGKILL');
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const prev = out[key];
    if (value === null) delete out[key];
    else if (isPlainObject(prev) && isPlainObject(value)) out[key] = deepMerge(prev, value);
    else out[key] = value;
  }
  return out;
}

/** bcrypt is not in node; `htpasswd -B` (apache2-utils) makes the only hash format distribution accepts. */
async function htpasswdLine(user: TokenUser): Promise<string> {
  if (user.username.includes(':')) throw new Error(`htpasswd user names cannot hold ':': ${user.username}`);
  const { stdout } = await run('htpasswd', ['-nbB', '-C', '4', user.username, user.password], { timeout: 10_000 });
  return stdout.trim();
}

const ACCESS_LINE = /^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+|-) "(?:[^"\\]|\\.)*" "((?:[^"\\]|\\.)*)"/;

/** Parse gorilla/handlers' combined log lines; lines in another shape are skipped. */
export function parseAccessLog(text: string): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (const raw of text.split('\n')) {
    const m = ACCESS_LINE.exec(raw);
    if (!m) continue;
    entries.push({
      remote: m[1] ?? '',
      time: m[2] ?? '',
      method: m[3] ?? '',
      path: m[4] ?? '',
      protocol: m[5] ?? '',
      status: Number(m[6]),
      bytes: m[7] === '-' ? 0 : Number(m[7]),
      userAgent: m[8] ?? '',
      raw,
    });
  }
  return entries;
}

/** One GET of `/v2/`: the status, or undefined when nothing answered. */
function probe(url: string, ca: Buffer | undefined): Promise<number | undefined> {
  return new Promise((resolve) => {
    const opts = { headers: { 'user-agent': PROBE_AGENT }, timeout: 1_000, agent: false as const };
    const req = ca ? httpsRequest(`${url}/v2/`, { ...opts, ca }) : httpRequest(`${url}/v2/`, opts);
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    // Refused connections are expected while the registry starts; the caller retries.
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function tail(file: string, lines: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** distribution maps REGISTRY_* variables onto its config; keep the caller's environment out of it. */
function registryEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
}

/**
 * Start a registry in its own temp dir and wait until `/v2/` answers (200 in
 * plain mode, 401 otherwise). Retries on a fresh port if the chosen one was
 * taken meanwhile. Throws a plain Error, with the tail of the registry's log,
 * when it exits early or is not ready within `readyTimeoutMs`; everything it
 * started is stopped before it throws.
 */
export async function startRegistry(options: StartRegistryOptions): Promise<RunningRegistry> {
  const root = await makeTempDir(`registry-${options.mode}`);
  let issuer: TokenIssuer | undefined;
  try {
    return await setUp(root, options, (i) => {
      issuer = i;
    });
  } catch (err) {
    await issuer?.close();
    await removeTempDir(root);
    throw err;
  }
}

async function setUp(root: string, options: StartRegistryOptions, onIssuer: (i: TokenIssuer) => void): Promise<RunningRegistry> {
  const { mode } = options;
  const users = [...(options.users ?? DEFAULT_USERS)];
  const dataDir = join(root, 'storage');
  const configFile = join(root, 'config.yml');
  const logFile = join(root, 'registry.log');
  const accessLogFile = join(root, 'access.log');
  await mkdir(dataDir);

  let ca: TestCA | undefined;
  let tls: { certificate: string; key: string } | undefined;
  let auth: Record<string, unknown> | undefined;
  let tokenIssuer: TokenIssuer | undefined;
  if (mode !== 'plain') {
    ca = options.ca ?? (await createTestCA(join(root, 'ca')));
    const server = await issueServerCert(ca, { name: 'registry', dir: join(root, 'tls'), dns: ['localhost'], ip: ['127.0.0.1'] });
    tls = { certificate: server.certFile, key: server.keyFile };
    if (mode === 'htpasswd-tls') {
      const htpasswd = join(root, 'htpasswd');
      await writeFile(htpasswd, `${(await Promise.all(users.map(htpasswdLine))).join('\n')}\n`);
      auth = { htpasswd: { realm: BASIC_REALM, path: htpasswd } };
    } else {
      const signer = await issueServerCert(ca, { name: 'token-signer', dir: join(root, 'tls'), dns: ['token-signer'], keyType: 'rsa' });
      tokenIssuer = await startTokenIssuer({
        signer,
        tls: server,
        users,
        publicRepositories: options.publicRepositories ?? [],
        issuer: ISSUER,
        service: SERVICE,
        ...(options.tokenExpiresIn !== undefined ? { expiresIn: options.tokenExpiresIn } : {}),
        ...(options.oauth !== undefined ? { oauth: options.oauth } : {}),
      });
      onIssuer(tokenIssuer);
      // registry/auth/token verifies the x5c chain against this bundle.
      auth = { token: { realm: tokenIssuer.realm, service: SERVICE, issuer: ISSUER, rootcertbundle: ca.certFile } };
    }
  }
  const caPem = ca ? await readFile(ca.certFile) : undefined;
  // Kept across restarts so upload session state (HMAC'd with it) stays valid.
  const secret = randomBytes(24).toString('hex');

  const configFor = (port: number): Record<string, unknown> =>
    deepMerge(
      {
        version: '0.1',
        log: { level: options.logLevel ?? 'info', formatter: 'text', accesslog: { disabled: false }, fields: { service: 'registry' } },
        storage: {
          filesystem: { rootdirectory: dataDir },
          delete: { enabled: options.deleteEnabled ?? false },
          cache: { blobdescriptor: 'inmemory' },
          maintenance: { uploadpurging: { enabled: false } },
        },
        http: { addr: `127.0.0.1:${port}`, secret, ...(tls ? { tls } : {}) },
        health: { storagedriver: { enabled: false } },
        ...(auth ? { auth } : {}),
      },
      options.extraConfig ?? {},
    );

  const scheme = tls ? 'https' : 'http';
  const readyTimeout = options.readyTimeoutMs ?? 15_000;
  let child: ChildProcess | undefined;

  const launch = async (port: number): Promise<'ready' | 'port-taken'> => {
    const config = configFor(port);
    const expected = config.auth ? 401 : 200;
    // YAML is a superset of JSON, so the config is written as JSON: no YAML library, no hand-quoting.
    await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
    const out = openSync(accessLogFile, 'a');
    const err = openSync(logFile, 'a');
    let proc: ChildProcess;
    try {
      proc = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', out, err], env: registryEnv() });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    child = proc;
    trackChild(proc);
    let spawnError: Error | undefined;
    proc.once('error', (e) => {
      spawnError = e;
    });
    const url = `${scheme}://127.0.0.1:${port}`;
    const deadline = Date.now() + readyTimeout;
    while (Date.now() < deadline) {
      if (spawnError) throw new Error(`cannot run docker-registry: ${spawnError.message}`, { cause: spawnError });
      if (proc.exitCode !== null || proc.signalCode !== null) {
        const log = await tail(logFile, 40);
        if (/address already in use/.test(log)) return 'port-taken';
        throw new Error(`docker-registry (${mode}) exited with ${proc.exitCode ?? proc.signalCode} before answering; log tail:\n${log}`);
      }
      const status = await probe(url, caPem);
      if (status === expected) return 'ready';
      if (status !== undefined) {
        await kill(proc);
        throw new Error(`docker-registry (${mode}) answered /v2/ with ${status}; log tail:\n${await tail(logFile, 40)}`);
      }
      await sleep(50);
    }
    await kill(proc);
    throw new Error(`docker-registry (${mode}) not ready within ${readyTimeout} ms; log tail:\n${await tail(logFile, 40)}`);
  };

  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    if ((await launch(port)) === 'ready') break;
    if (attempt >= PORT_ATTEMPTS) throw new Error(`docker-registry (${mode}) could not bind a port after ${PORT_ATTEMPTS} attempts`);
  }

  let stopped = false;
  const host = `127.0.0.1:${port}`;
  const firstUser = mode === 'plain' ? undefined : users[0];
  return {
    mode,
    host,
    port,
    url: `${scheme}://${host}`,
    ...(ca ? { caFile: ca.certFile, certDir: ca.trustDir } : {}),
    ...(firstUser ? { username: firstUser.username, password: firstUser.password } : {}),
    users,
    dataDir,
    configFile,
    logFile,
    accessLogFile,
    ...(tokenIssuer ? { tokenIssuer } : {}),
    accessLog: async () => parseAccessLog(await tail(accessLogFile, Number.MAX_SAFE_INTEGER)).filter((e) => e.userAgent !== PROBE_AGENT),
    logTail: (lines = 40) => tail(logFile, lines),
    restart: async () => {
      if (stopped) throw new Error('restart() after stop()');
      if (child) await kill(child);
      if ((await launch(port)) === 'port-taken') throw new Error(`docker-registry (${mode}) could not rebind port ${port} on restart`);
    },
    stop: async ({ keepFiles = false } = {}) => {
      if (stopped) return;
      stopped = true;
      if (child) await kill(child);
      await tokenIssuer?.close();
      if (!keepFiles) await removeTempDir(root);
    },
  };
}

/** SIGTERM (distribution shuts its server down), then SIGKILL if it lingers; resolves once it has exited. */
async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, STOP_GRACE_MS)) return;
  child.kill('SIGKILL');
  if (!(await waitForExit(child, STOP_GRACE_MS))) throw new Error(`docker-registry pid ${child.pid} did not exit after SIGKILL`);
}
