import { dirname } from 'node:path';
import { GantryError, isGantryError } from '../errors/index.js';
import { writeFileAtomic } from '../internal/atomic-file.js';
import { FileLockTimeoutError, withFileLock } from '../internal/file-lock.js';
import { encodeAuthEntry } from './auth-entry.js';
import { dockerConfigPath, findAuth, loadDockerConfig, type DockerConfig, type DockerConfigLocation } from './config-file.js';
import { findKey, keyMatchesHost, serverAddress } from './registry-key.js';
import type { Credential, CredentialSource, CredentialStore } from './types.js';

export interface FileStoreOptions extends DockerConfigLocation {
  /** How long a write waits for another process's lock on config.json. Default 20 s. */
  lockTimeoutMs?: number;
}

/** The `auths` section of docker's config.json as a credential store. */
export interface FileStore extends CredentialStore {
  /** The config.json this store reads and writes. */
  readonly path: string;
  store(host: string, credential: Credential): Promise<void>;
  erase(host: string): Promise<boolean>;
}

/**
 * A store over config.json's `auths`, keyed as docker keys them (see
 * registry-key.ts). `get` rejects with CONFIG_INVALID for a malformed file or
 * entry. `store` and `erase` re-read the file under a lock (config.json.lock)
 * and replace it atomically with mode 0600, so concurrent logins never lose
 * each other's entries and every key gantry does not own survives; they
 * reject with CONFIG_INVALID rather than overwrite a file they cannot parse,
 * and with CREDENTIAL_STORE_FAILED when the file cannot be locked or written.
 */
export function createFileStore(options: FileStoreOptions = {}): FileStore {
  const path = dockerConfigPath(options);
  const location: DockerConfigLocation = { ...options, configDir: dirname(path) };

  async function update(change: (auths: Record<string, unknown>) => boolean): Promise<boolean> {
    try {
      return await withFileLock(
        path,
        async () => {
          // Re-read inside the lock: another process may have written since any earlier read.
          const config = await loadDockerConfig(location);
          const data = structuredClone(config.data) as Record<string, unknown>;
          const auths = structuredClone(config.auths) as Record<string, unknown>;
          if (!change(auths)) return false;
          data.auths = auths;
          // docker writes tab-indented JSON with no trailing newline.
          await writeFileAtomic(path, JSON.stringify(data, null, '\t'), { mode: 0o600 });
          return true;
        },
        { timeoutMs: options.lockTimeoutMs },
      );
    } catch (err) {
      throw asStoreError(err, path);
    }
  }

  return {
    name: 'config.json',
    path,
    async get(host) {
      const config = await loadDockerConfig(location);
      return sourceFrom(config, host);
    },
    async store(host, credential) {
      await update((auths) => {
        const key = serverAddress(host);
        const previousKey = findKey(Object.keys(auths), host);
        const previous = previousKey === undefined ? undefined : auths[previousKey];
        // One entry per host: drop the other spellings of it so none can shadow the new one.
        for (const other of Object.keys(auths)) if (other !== key && keyMatchesHost(other, host)) delete auths[other];
        auths[key] = encodeAuthEntry(credential, previous);
        return true;
      });
    },
    async erase(host) {
      return update((auths) => {
        const keys = Object.keys(auths).filter((k) => keyMatchesHost(k, host));
        for (const key of keys) delete auths[key];
        return keys.length > 0;
      });
    },
  };
}

/** The credential config.json holds for `host` as a source naming the file. */
export function sourceFrom(config: DockerConfig, host: string): CredentialSource | undefined {
  const found = findAuth(config, host);
  return found ? { credential: found.credential, from: config.path } : undefined;
}

function asStoreError(err: unknown, path: string): unknown {
  // The lock timeout is a GantryError too, but here it means the credential store failed: say so.
  if (err instanceof FileLockTimeoutError) {
    return new GantryError('CREDENTIAL_STORE_FAILED', `${path} is locked by another process`, {
      hint: `Another gantry may be logging in; if none is running, remove ${err.lockPath}.`,
      cause: err,
    });
  }
  if (isGantryError(err)) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') {
    return new GantryError('CREDENTIAL_STORE_FAILED', `cannot write ${path}: ${code}`, {
      hint: `Check the permissions of ${path} and its directory, and the free disk space.`,
      cause: err,
    });
  }
  return err;
}
