import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { GantryError } from '../errors/index.js';
import { DEFAULT_CERTS_DIRS, loadCertsDirs } from './certs-dir.js';
import type { InsecurePolicy } from './insecure-policy.js';

/** The TLS part of undici's connect options. */
export interface TlsConnectOptions {
  rejectUnauthorized: boolean;
  /**
   * Set when gantry adds CAs; then it holds node's defaults too. Empty when
   * nothing is verified (a registry the user marked insecure).
   */
  ca?: string[];
  cert?: string;
  key?: string;
}

export interface TlsSettings {
  policy: InsecurePolicy;
  /** `--ca-file`: a PEM bundle trusted for every registry, on top of the system's CAs. */
  caFile?: string;
  /** certs.d roots (default /etc/docker/certs.d and /etc/containers/certs.d). */
  certsDirs?: readonly string[];
  /** For NODE_EXTRA_CA_CERTS. */
  env: NodeJS.ProcessEnv;
}

export interface TlsOptionsResolver {
  /**
   * The TLS options for connections made on behalf of `registry` to `host`
   * (`host[:port]` of the URL). Throws TLS/USAGE when a configured file
   * cannot be read.
   */
  resolve(registry: string | undefined, host: string): Promise<TlsConnectOptions>;
}

/**
 * Builds TLS options. Passing `ca` to node replaces its trust store, so when
 * gantry adds a CA (--ca-file, certs.d) the list is node's bundled roots plus
 * the NODE_EXTRA_CA_CERTS file (node applies that one only to its default
 * store) plus the additions; without additions `ca` stays unset and node's
 * defaults apply untouched.
 *
 * A registry the user marked insecure gets no trust anchors at all (`ca: []`):
 * its certificate is not checked, and without `ca` node would parse its ~140
 * bundled roots on the first TLS connection (16 ms measured here) for a check
 * whose result is ignored — on every `--insecure` command that probes HTTPS
 * before plain HTTP. Its --ca-file and certs.d are still read: a broken file
 * is reported either way, and a client certificate pair still counts.
 */
export function createTlsOptionsResolver(settings: TlsSettings): TlsOptionsResolver {
  const certsDirs = settings.certsDirs ?? DEFAULT_CERTS_DIRS;
  let baseCas: Promise<string[]> | undefined;
  let userCa: Promise<string | undefined> | undefined;

  const loadBase = (): Promise<string[]> => {
    baseCas ??= (async () => {
      const extraFile = settings.env.NODE_EXTRA_CA_CERTS;
      const extra = extraFile ? await readExtraCerts(extraFile) : undefined;
      return extra ? [...rootCertificates, extra] : [...rootCertificates];
    })();
    return baseCas;
  };

  const loadUserCa = (): Promise<string | undefined> => {
    userCa ??= settings.caFile ? readCaFile(settings.caFile) : Promise.resolve(undefined);
    return userCa;
  };

  return {
    async resolve(registry, host) {
      const rejectUnauthorized = !(registry !== undefined && settings.policy.isMarked(registry));
      const names = registry === undefined ? [host] : [registry, host];
      const [fromDirs, caFileText] = await Promise.all([loadCertsDirs(certsDirs, names), loadUserCa()]);
      const additions = [...(caFileText ? [caFileText] : []), ...fromDirs.cas];
      const options: TlsConnectOptions = { rejectUnauthorized };
      if (!rejectUnauthorized) options.ca = [];
      else if (additions.length > 0) options.ca = [...(await loadBase()), ...additions];
      if (fromDirs.client) {
        options.cert = fromDirs.client.cert;
        options.key = fromDirs.client.key;
      }
      return options;
    },
  };
}

async function readCaFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new GantryError('USAGE', `cannot read the CA file ${path}: ${(err as Error).message}`, {
      hint: 'Pass --ca-file a readable PEM file with the certificate of the CA that signed the registry certificate.',
      cause: err,
    });
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new GantryError('USAGE', `the CA file ${path} holds no PEM certificate`, {
      hint: 'Convert it to PEM: openssl x509 -inform der -in FILE -out ca.pem',
    });
  }
  return text;
}

/**
 * Node itself only warns when NODE_EXTRA_CA_CERTS cannot be read; do the
 * same here (return nothing) rather than fail every TLS connection.
 */
async function readExtraCerts(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return undefined;
    throw err;
  }
}
