import { GantryError } from '../errors/index.js';
import { loadDockerConfig, perHostHelper, type DockerConfig, type DockerConfigLocation } from './config-file.js';
import { createFileStore, sourceFrom } from './file-store.js';
import { createHelperStore } from './helper-store.js';
import { createKeychainStore, type KeychainStore } from './keychain-store.js';
import { registryHost } from './registry-key.js';
import type { Credential, CredentialSource, CredentialStore } from './types.js';

/** Where `store` puts a credential; `auto` is where docker would. */
export type StoreTarget = 'auto' | 'file' | 'keychain' | 'helper';

export interface DockerCredentialsOptions extends DockerConfigLocation {
  /** Consult (and keep consistent) gantry's entries in the OS keychain. Default false. */
  keychain?: boolean;
  /** Time limit for each credential helper call. Default 10 s. */
  helperTimeoutMs?: number;
  /** The keychain store to use (tests inject one). Default `createKeychainStore()`. */
  keychainStore?: KeychainStore;
}

/**
 * A concrete place a credential goes. `from` is config.json's path,
 * `keychain`, or `docker-credential-<helper>`.
 */
export type CredentialTarget = { store: 'file' | 'keychain'; from: string } | { store: 'helper'; from: string; helper: string };

/** Docker's credential stores, plus gantry's keychain, behind one CredentialStore. */
export interface DockerCredentials extends CredentialStore {
  get(host: string): Promise<CredentialSource | undefined>;
  /** Write the credential to `options.store` (default `auto`); see `targetFor`. */
  store(host: string, credential: Credential, options?: { store?: StoreTarget }): Promise<void>;
  /**
   * Remove the host from every store that may hold it (its helpers, the
   * keychain when `keychain` is set, config.json); true when any had it.
   * Tries them all even when one fails, then rejects with the first failure.
   */
  erase(host: string): Promise<boolean>;
  /**
   * Where `store` would write for `host`: `auto` means where docker would
   * (`credHelpers[host]`, else `credsStore`, else config.json). Rejects with
   * USAGE for `helper` when no helper is configured for the host.
   */
  targetFor(host: string, store?: StoreTarget): Promise<CredentialTarget>;
}

/**
 * Credentials the way docker finds them, read fresh from config.json on every
 * call. `get(host)` asks, in order, and answers with the first that has one:
 *
 * 1. `credHelpers[host]`, the per-registry helper docker would use;
 * 2. the OS keychain, when `keychain` is set;
 * 3. `credsStore`, docker's default helper (skipped when `credHelpers` pins
 *    the host to the file with an empty name, as docker does);
 * 4. `auths` in config.json.
 *
 * Why the keychain sits there: a `credHelpers` entry is explicit per-registry
 * configuration and outranks everything in docker, so it outranks gantry too;
 * a keychain entry exists only because someone ran `gantry login --store
 * keychain` for that very host, which is more specific than the global
 * `credsStore` or whatever docker left in `auths`, so later commands must
 * find it first. To keep the answer the newest login, `store` to any other
 * place erases the host's keychain entry when `keychain` is set.
 *
 * Where docker stops at a helper's "not found", this chain goes on to the
 * next store (as containers/image does), so old `auths` entries still work
 * beside a `credsStore`. A store that fails rejects the whole lookup with its
 * GantryError (CREDENTIAL_HELPER_FAILED, KEYCHAIN_UNAVAILABLE, CONFIG_INVALID…):
 * a broken store never turns into anonymous access.
 */
export function createDockerCredentials(options: DockerCredentialsOptions = {}): DockerCredentials {
  const location: DockerConfigLocation = { configDir: options.configDir, env: options.env };
  const fileStore = createFileStore(location);
  const keychain = options.keychainStore ?? createKeychainStore();
  const helper = (name: string) => createHelperStore({ helper: name, env: options.env, timeoutMs: options.helperTimeoutMs });

  /** The helpers docker would consult for `host`, per-host first; `pinnedToFile` when credHelpers maps it to ''. */
  function helpersFor(config: DockerConfig, host: string): { perHost?: string; pinnedToFile: boolean; credsStore?: string } {
    const perHost = perHostHelper(config, host);
    if (perHost === '') return { pinnedToFile: true };
    const credsStore = config.credsStore !== undefined && config.credsStore !== perHost ? config.credsStore : undefined;
    return { perHost, pinnedToFile: false, credsStore };
  }

  function resolveTarget(config: DockerConfig, host: string, store: StoreTarget): CredentialTarget {
    if (store === 'keychain') return { store: 'keychain', from: keychain.name };
    const { perHost, credsStore } = helpersFor(config, host);
    const name = perHost ?? credsStore;
    if (store === 'file' || (store === 'auto' && name === undefined)) return { store: 'file', from: fileStore.path };
    if (name === undefined) {
      throw new GantryError('USAGE', `no credential helper is configured for ${host} in ${config.path}`, {
        hint: 'Set "credsStore" or "credHelpers" in docker\'s config.json, or choose another store.',
      });
    }
    return { store: 'helper', from: helper(name).program, helper: name };
  }

  return {
    name: 'docker',
    async get(host) {
      const normalized = registryHost(host);
      const config = await loadDockerConfig(location);
      const { perHost, pinnedToFile, credsStore } = helpersFor(config, normalized);
      const chain: CredentialStore[] = [];
      if (perHost !== undefined) chain.push(helper(perHost));
      if (options.keychain) chain.push(keychain);
      if (!pinnedToFile && credsStore !== undefined) chain.push(helper(credsStore));
      for (const store of chain) {
        const found = await store.get(normalized);
        if (found) return found;
      }
      return sourceFrom(config, normalized);
    },
    async store(host, credential, storeOptions = {}) {
      const normalized = registryHost(host);
      const config = await loadDockerConfig(location);
      const target = resolveTarget(config, normalized, storeOptions.store ?? 'auto');
      if (target.store === 'helper') {
        await helper(target.helper).store(normalized, credential);
        // As docker does: leave an entry with no secret in the file, which also drops any plaintext one.
        await fileStore.store(normalized, {});
      } else if (target.store === 'keychain') {
        await keychain.store(normalized, credential);
      } else {
        await fileStore.store(normalized, credential);
      }
      if (options.keychain && target.store !== 'keychain') await keychain.erase(normalized);
    },
    async targetFor(host, store = 'auto') {
      const normalized = registryHost(host);
      return resolveTarget(await loadDockerConfig(location), normalized, store);
    },
    async erase(host) {
      const normalized = registryHost(host);
      const config = await loadDockerConfig(location);
      const { perHost, credsStore } = helpersFor(config, normalized);
      const stores: CredentialStore[] = [];
      for (const name of [perHost, credsStore]) if (name !== undefined) stores.push(helper(name));
      if (options.keychain) stores.push(keychain);
      stores.push(fileStore);
      let erased = false;
      const failures: unknown[] = [];
      // Try every store even when one fails, so a logout removes all it can; then report the first failure.
      for (const store of stores) {
        try {
          if (await store.erase?.(normalized)) erased = true;
        } catch (err) {
          failures.push(err);
        }
      }
      if (failures.length > 0) throw failures[0];
      return erased;
    },
  };
}
