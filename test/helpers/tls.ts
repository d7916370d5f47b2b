import { execFile } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Every openssl call is small; anything slower than this is a hung process. */
const OPENSSL_TIMEOUT_MS = 20_000;

/** A throwaway certificate authority whose files live in `dir`. */
export interface TestCA {
  dir: string;
  /** PEM certificate of the CA (the file to trust). */
  certFile: string;
  /** PEM private key of the CA (PKCS#8, unencrypted). */
  keyFile: string;
  /**
   * A directory holding only `ca.crt`: the layout skopeo's `--*-cert-dir` and
   * docker's `certs.d/<host>/` expect. It must not hold a `.key` without a
   * matching `.cert`, or containers/image refuses it, hence its own dir.
   */
  trustDir: string;
}

/** A leaf certificate issued by a `TestCA`. */
export interface IssuedCert {
  certFile: string;
  keyFile: string;
}

export type KeyType = 'ec' | 'rsa';

export interface IssueCertOptions {
  /** DNS subjectAltNames; default none. */
  dns?: string[];
  /** IP subjectAltNames; default none. */
  ip?: string[];
  /** File stem: writes `<name>.crt` and `<name>.key`; default `server`. */
  name?: string;
  /** Where to write; default the CA's dir. */
  dir?: string;
  /** Subject CN; default the first DNS name, else the first IP, else the name. */
  commonName?: string;
  /** `ec` (P-256, fast, the default) or `rsa` (2048, needed to sign RS256 tokens). */
  keyType?: KeyType;
  /** Validity in days; default 2 (test material should not outlive the run). */
  days?: number;
}

function keyArgs(keyType: KeyType): string[] {
  return keyType === 'rsa'
    ? ['-newkey', 'rsa:2048']
    : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: OPENSSL_TIMEOUT_MS, killSignal: 'SIGKILL' });
  } catch (err) {
    const stderr = (err as { stderr?: unknown }).stderr;
    throw new Error(`openssl ${args[0] ?? ''} failed: ${typeof stderr === 'string' ? stderr.trim() : String(err)}`, {
      cause: err,
    });
  }
}

/** openssl config values are bare words; refuse anything that could break out of one. */
function checkConfigValue(kind: string, value: string): string {
  if (!/^[A-Za-z0-9.*:_ -]+$/.test(value)) throw new Error(`unsupported ${kind} for a test certificate: ${JSON.stringify(value)}`);
  return value;
}

/**
 * Create a CA (EC P-256, self-signed, `CA:TRUE`, valid 2 days) in `dir`
 * (created if missing) with `openssl req -x509`. Files: `ca.crt`, `ca.key`,
 * `trust/ca.crt`. Throws when openssl fails or takes over 20 s.
 */
export async function createTestCA(dir: string, options: { commonName?: string } = {}): Promise<TestCA> {
  await mkdir(dir, { recursive: true });
  const config = join(dir, 'ca.cnf');
  const certFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'ca.key');
  const cn = checkConfigValue('common name', options.commonName ?? 'gantry test CA');
  await writeFile(
    config,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      'x509_extensions = ca_ext',
      '[dn]',
      `CN = ${cn}`,
      '[ca_ext]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign, digitalSignature',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  await openssl([
    'req', '-x509', '-new', ...keyArgs('ec'), '-nodes', '-sha256', '-days', '2',
    '-config', config, '-keyout', keyFile, '-out', certFile,
  ]);
  const trustDir = join(dir, 'trust');
  await mkdir(trustDir, { recursive: true });
  await copyFile(certFile, join(trustDir, 'ca.crt'));
  return { dir, certFile, keyFile, trustDir };
}

/**
 * Issue a leaf certificate signed by `ca` with the given subjectAltNames
 * (`serverAuth`, `CA:FALSE`), in one `openssl req -x509 -CA` call. Throws a
 * plain Error on an unusable name or when openssl fails.
 */
export async function issueServerCert(ca: TestCA, options: IssueCertOptions = {}): Promise<IssuedCert> {
  const name = options.name ?? 'server';
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`bad certificate file name: ${JSON.stringify(name)}`);
  const dns = (options.dns ?? []).map((d) => checkConfigValue('DNS name', d));
  const ips = options.ip ?? [];
  for (const ip of ips) if (isIP(ip) === 0) throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
  const keyType = options.keyType ?? 'ec';
  const dir = options.dir ?? ca.dir;
  await mkdir(dir, { recursive: true });
  const cn = checkConfigValue('common name', options.commonName ?? dns[0] ?? ips[0] ?? name);
  const sans = [...dns.map((d) => `DNS:${d}`), ...ips.map((i) => `IP:${i}`)];
  const config = join(dir, `${name}.cnf`);
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await writeFile(
    config,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      'x509_extensions = leaf_ext',
      '[dn]',
      `CN = ${cn}`,
      '[leaf_ext]',
      'basicConstraints = critical, CA:FALSE',
      // keyEncipherment only means something for RSA key transport (TLS 1.2).
      `keyUsage = critical, ${keyType === 'rsa' ? 'digitalSignature, keyEncipherment' : 'digitalSignature'}`,
      'extendedKeyUsage = serverAuth',
      ...(sans.length > 0 ? [`subjectAltName = ${sans.join(', ')}`] : []),
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  await openssl([
    'req', '-x509', '-new', ...keyArgs(keyType), '-nodes', '-sha256', '-days', String(options.days ?? 2),
    '-config', config, '-CA', ca.certFile, '-CAkey', ca.keyFile,
    '-keyout', keyFile, '-out', certFile,
  ]);
  return { certFile, keyFile };
}
