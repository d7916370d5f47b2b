import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GantryError } from '../errors/index.js';

/** Where docker and containers/image look for per-registry certificates. */
export const DEFAULT_CERTS_DIRS: readonly string[] = ['/etc/docker/certs.d', '/etc/containers/certs.d'];

/** What a `certs.d/<host:port>/` directory holds, read into memory. */
export interface CertsDirContent {
  /** PEM texts of the `*.crt` files: extra CAs. */
  cas: string[];
  /** The first (by name) `*.cert` + `*.key` client pair. */
  client?: { cert: string; key: string };
  /** The files that were read, for debug lines. */
  files: string[];
}

/**
 * Read `<dir>/<name>/` for every dir and name, as docker's certs.d layout:
 * `*.crt` are CA certificates, `*.cert` with the `*.key` of the same stem a
 * client certificate. A missing directory is no error; a `.cert` without its
 * `.key` (or the reverse) throws TLS, as docker refuses it too, rather than
 * connecting without the certificate the user meant to present.
 */
export async function loadCertsDirs(dirs: readonly string[], names: readonly string[]): Promise<CertsDirContent> {
  const out: CertsDirContent = { cas: [], files: [] };
  const pairs: Array<{ cert: string; key: string }> = [];
  for (const dir of dirs) {
    for (const name of new Set(names)) {
      const hostDir = join(dir, name);
      const entries = await listDir(hostDir);
      for (const entry of entries.sort()) {
        const path = join(hostDir, entry);
        if (entry.endsWith('.crt')) {
          out.cas.push(await readText(path));
          out.files.push(path);
        } else if (entry.endsWith('.cert')) {
          const keyName = `${entry.slice(0, -'.cert'.length)}.key`;
          if (!entries.includes(keyName)) throw pairError(path, join(hostDir, keyName));
          pairs.push({ cert: await readText(path), key: await readText(join(hostDir, keyName)) });
          out.files.push(path, join(hostDir, keyName));
        } else if (entry.endsWith('.key')) {
          const certName = `${entry.slice(0, -'.key'.length)}.cert`;
          if (!entries.includes(certName)) throw pairError(path, join(hostDir, certName));
        }
      }
    }
  }
  const first = pairs[0];
  if (first) out.client = first;
  return out;
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new GantryError('TLS', `cannot read certificate directory ${path}: ${(err as Error).message}`, { cause: err });
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new GantryError('TLS', `cannot read certificate file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function pairError(have: string, missing: string): GantryError {
  return new GantryError('TLS', `client certificate pair incomplete: ${have} has no ${missing}`, {
    hint: 'Put a client certificate in certs.d as NAME.cert with its key as NAME.key, or remove the stray file.',
  });
}
