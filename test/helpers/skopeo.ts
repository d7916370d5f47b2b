import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redactSecrets } from '../../src/internal/redact.js';
import { makeTempDir } from './tmp.js';

/**
 * skopeo, run hermetically: a temp policy (accept anything), an empty
 * registries.conf and registries.d, an empty authfile and a temp HOME/XDG dirs,
 * so neither the user's nor the system's container config is read or written.
 */

/** How to reach one registry from skopeo. */
export interface SkopeoAccess {
  /** `user:pass`. */
  creds?: string;
  /** A dir holding `ca.crt` (and nothing skopeo would take for a client key). */
  certDir?: string;
  /** false for plain-HTTP registries. Default true. */
  tlsVerify?: boolean;
}

export interface SkopeoCopyOptions {
  srcCreds?: string;
  srcCertDir?: string;
  srcTlsVerify?: boolean;
  destCreds?: string;
  destCertDir?: string;
  destTlsVerify?: boolean;
  /** `--multi-arch`; `all` copies every image of an index (digest-preserving). Default skopeo's (`system`). */
  multiArch?: 'system' | 'all' | 'index-only';
  /** `--preserve-digests`: fail rather than change a digest. */
  preserveDigests?: boolean;
  /** `--format`: manifest type at the destination. */
  format?: 'oci' | 'v2s2';
  timeoutMs?: number;
}

export interface SkopeoInspectOptions extends SkopeoAccess {
  /** `--raw`: the manifest as stored; parsed JSON is returned. */
  raw?: boolean;
  /** `--config`: the image config. */
  config?: boolean;
  /** `--override-arch` etc. for choosing an image of an index. */
  overrideArch?: string;
  overrideOs?: string;
  overrideVariant?: string;
  timeoutMs?: number;
}

/** A failed skopeo run; the message carries its (redacted) arguments and stderr. */
export class SkopeoError extends Error {
  constructor(
    message: string,
    readonly args: string[],
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = 'SkopeoError';
  }
}

interface Sandbox {
  dir: string;
  policy: string;
  authfile: string;
  registriesD: string;
  tmp: string;
  env: NodeJS.ProcessEnv;
}

let sandbox: Promise<Sandbox> | undefined;

async function createSandbox(): Promise<Sandbox> {
  const dir = await makeTempDir('skopeo');
  const policy = join(dir, 'policy.json');
  const authfile = join(dir, 'auth.json');
  const registriesConf = join(dir, 'registries.conf');
  const registriesD = join(dir, 'registries.d');
  const home = join(dir, 'home');
  const tmp = join(dir, 'tmp');
  await Promise.all([mkdir(registriesD), mkdir(home), mkdir(tmp)]);
  await Promise.all([
    writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] })),
    writeFile(authfile, JSON.stringify({ auths: {} })),
    writeFile(registriesConf, 'unqualified-search-registries = []\n'),
  ]);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_RUNTIME_DIR: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    TMPDIR: tmp,
    CONTAINERS_REGISTRIES_CONF: registriesConf,
    REGISTRY_AUTH_FILE: authfile,
  };
  return { dir, policy, authfile, registriesD, tmp, env };
}

/** One sandbox per process, made on first use and again if a cleanup removed it. */
async function getSandbox(): Promise<Sandbox> {
  if (sandbox && !existsSync((await sandbox).dir)) sandbox = undefined;
  sandbox ??= createSandbox();
  return sandbox;
}

function secretsOf(...creds: Array<string | undefined>): string[] {
  return creds.flatMap((c) => {
    if (!c) return [];
    const colon = c.indexOf(':');
    return colon < 0 ? [] : [c.slice(colon + 1), c];
  });
}

async function skopeo(args: string[], secrets: string[], timeoutMs: number): Promise<string> {
  const box = await getSandbox();
  const full = ['--policy', box.policy, '--registries.d', box.registriesD, '--tmpdir', box.tmp, ...args];
  return new Promise((resolve, reject) => {
    execFile(
      'skopeo',
      full,
      { env: box.env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const shown = redactSecrets(full.join(' '), secrets);
        const why = err.killed ? `timed out after ${timeoutMs} ms` : `exited with ${String(err.code)}`;
        const code = typeof err.code === 'number' ? err.code : null;
        reject(new SkopeoError(`skopeo ${why}: ${shown}\n${redactSecrets(stderr.trim(), secrets)}`, args, redactSecrets(stderr, secrets), code));
      },
    );
  });
}

function accessFlags(prefix: '--src-' | '--dest-' | '--', access: SkopeoAccess, authfile: string): string[] {
  const flags: string[] = [];
  // --src-authfile etc. keep skopeo from reading ${XDG_RUNTIME_DIR}/containers/auth.json.
  flags.push(`${prefix}authfile`, authfile);
  if (access.creds) flags.push(`${prefix}creds`, access.creds);
  if (access.certDir) flags.push(`${prefix}cert-dir`, access.certDir);
  flags.push(`${prefix}tls-verify=${String(access.tlsVerify ?? true)}`);
  return flags;
}

function isDockerRef(ref: string): boolean {
  return ref.startsWith('docker://');
}

/**
 * `skopeo copy SRC DST` (any transports, e.g. `oci:/dir:tag` →
 * `docker://127.0.0.1:5000/repo:tag`). Resolves with skopeo's stdout; rejects
 * with a `SkopeoError` (stderr included, credentials redacted) on failure or
 * after `timeoutMs` (default 60 s).
 */
export async function skopeoCopy(src: string, dst: string, options: SkopeoCopyOptions = {}): Promise<string> {
  const { authfile } = await getSandbox();
  const args = ['copy', '--quiet', '--retry-times', '0'];
  if (isDockerRef(src)) {
    args.push(...accessFlags('--src-', { creds: options.srcCreds, certDir: options.srcCertDir, tlsVerify: options.srcTlsVerify }, authfile));
  }
  if (isDockerRef(dst)) {
    args.push(...accessFlags('--dest-', { creds: options.destCreds, certDir: options.destCertDir, tlsVerify: options.destTlsVerify }, authfile));
  }
  if (options.multiArch) args.push('--multi-arch', options.multiArch);
  if (options.preserveDigests) args.push('--preserve-digests');
  if (options.format) args.push('--format', options.format);
  args.push(src, dst);
  return skopeo(args, secretsOf(options.srcCreds, options.destCreds), options.timeoutMs ?? 60_000);
}

function inspectArgs(ref: string, options: SkopeoInspectOptions, authfile: string): string[] {
  const global: string[] = [];
  if (options.overrideArch) global.push('--override-arch', options.overrideArch);
  if (options.overrideOs) global.push('--override-os', options.overrideOs);
  if (options.overrideVariant) global.push('--override-variant', options.overrideVariant);
  const args = [...global, 'inspect', '--retry-times', '0'];
  if (isDockerRef(ref)) args.push(...accessFlags('--', options, authfile));
  return args;
}

/**
 * `skopeo inspect REF` parsed from JSON (with `raw`, the stored manifest; with
 * `config`, the image config). Rejects with a `SkopeoError` on failure.
 */
export async function skopeoInspect(ref: string, options: SkopeoInspectOptions = {}): Promise<Record<string, unknown>> {
  const { authfile } = await getSandbox();
  const args = inspectArgs(ref, options, authfile);
  if (options.raw) args.push('--raw');
  if (options.config) args.push('--config');
  args.push(ref);
  const out = await skopeo(args, secretsOf(options.creds), options.timeoutMs ?? 30_000);
  return JSON.parse(out) as Record<string, unknown>;
}

/**
 * The digest of the manifest (or index) REF names, as skopeo computes it from
 * the stored bytes (`inspect --format {{.Digest}}`). Rejects with a `SkopeoError`.
 */
export async function skopeoDigest(ref: string, options: SkopeoInspectOptions = {}): Promise<string> {
  const { authfile } = await getSandbox();
  const args = [...inspectArgs(ref, options, authfile), '--format', '{{.Digest}}', ref];
  return (await skopeo(args, secretsOf(options.creds), options.timeoutMs ?? 30_000)).trim();
}

/** How skopeo reaches a started registry: its first user's creds, its CA dir, TLS on or off. */
export function skopeoAccessFor(registry: {
  mode: string;
  username?: string;
  password?: string;
  certDir?: string;
}): SkopeoAccess {
  return {
    ...(registry.username !== undefined && registry.password !== undefined ? { creds: `${registry.username}:${registry.password}` } : {}),
    ...(registry.certDir ? { certDir: registry.certDir } : {}),
    tlsVerify: registry.mode !== 'plain',
  };
}

/** `skopeoAccessFor` spelled as `skopeoCopy` destination options. */
export function skopeoDestFor(registry: Parameters<typeof skopeoAccessFor>[0]): Pick<SkopeoCopyOptions, 'destCreds' | 'destCertDir' | 'destTlsVerify'> {
  const a = skopeoAccessFor(registry);
  return { destCreds: a.creds, destCertDir: a.certDir, destTlsVerify: a.tlsVerify };
}

/** `skopeoAccessFor` spelled as `skopeoCopy` source options. */
export function skopeoSrcFor(registry: Parameters<typeof skopeoAccessFor>[0]): Pick<SkopeoCopyOptions, 'srcCreds' | 'srcCertDir' | 'srcTlsVerify'> {
  const a = skopeoAccessFor(registry);
  return { srcCreds: a.creds, srcCertDir: a.certDir, srcTlsVerify: a.tlsVerify };
}
