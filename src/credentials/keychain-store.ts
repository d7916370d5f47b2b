import { GantryError, isGantryError } from '../errors/index.js';
import { parseJson } from '../internal/parse-json.js';
import { registryHost } from './registry-key.js';
import type { Credential, CredentialStore } from './types.js';

/** The part of `@napi-rs/keyring` (v2) this store uses. */
export interface KeyringModule {
  AsyncEntry: new (service: string, account: string, options?: { linux?: { store?: 'secret-service' | 'keyutils' } }) => KeyringEntry;
}

export interface KeyringEntry {
  getPassword(): Promise<string | null>;
  setPassword(password: string): Promise<void>;
  deleteCredential(): Promise<boolean>;
}

export interface KeychainStoreOptions {
  /** The keychain service the entries are filed under. Default `gantry`. */
  service?: string;
  /** Loads the keyring binding. Default: a dynamic import of `@napi-rs/keyring`. */
  loadKeyring?: () => Promise<KeyringModule>;
}

/** The OS keychain as a credential store, with the store-specific methods required. */
export interface KeychainStore extends CredentialStore {
  store(host: string, credential: Credential): Promise<void>;
  erase(host: string): Promise<boolean>;
}

// A variable specifier keeps TypeScript from resolving the optional dependency at build time.
const KEYRING_PACKAGE = '@napi-rs/keyring';

/**
 * The binding, loaded on first use. The CLI bundle is CommonJS (compiled
 * through vm.Script for its code cache), where import() would need an
 * experimental flag: it has `require`, and the ESM build has import().
 */
function loadKeyringPackage(): Promise<KeyringModule> {
  if (typeof require === 'function') return Promise.resolve().then(() => require(KEYRING_PACKAGE) as KeyringModule);
  return import(KEYRING_PACKAGE) as Promise<KeyringModule>;
}

const UNAVAILABLE_HINT =
  'Install and unlock a keyring (gnome-keyring or KWallet on Linux), or log in with `--store auto` (docker’s credsStore/credHelpers) or `--store file` (config.json).';

/**
 * Credentials in the OS keychain (macOS Keychain, Windows Credential Manager,
 * the Secret Service on Linux) through the optional `@napi-rs/keyring`,
 * loaded on first use. Each registry is one entry: service `gantry`, account
 * the normalized host, secret the credential as JSON.
 *
 * On Linux the entry is pinned to the Secret Service: the binding otherwise
 * falls back silently to the kernel keyring, which forgets everything at
 * logout and would hide a missing keyring daemon.
 *
 * Rejects with GantryError KEYCHAIN_UNAVAILABLE when the binding cannot load
 * or the keychain cannot be reached or is locked, and CREDENTIAL_STORE_FAILED
 * for any other keychain error or an entry that is not gantry's JSON.
 */
export function createKeychainStore(options: KeychainStoreOptions = {}): KeychainStore {
  const service = options.service ?? 'gantry';
  const load = options.loadKeyring ?? loadKeyringPackage;
  let loaded: Promise<KeyringModule> | undefined;

  async function withEntry<T>(host: string, action: string, use: (entry: KeyringEntry) => Promise<T>): Promise<T> {
    loaded ??= load().catch((err: unknown) => {
      loaded = undefined;
      throw new GantryError('KEYCHAIN_UNAVAILABLE', `the OS keychain binding (${KEYRING_PACKAGE}) cannot be loaded: ${firstLine(err)}`, {
        hint: UNAVAILABLE_HINT,
        cause: err,
      });
    });
    const keyring = await loaded;
    try {
      const entry = new keyring.AsyncEntry(service, registryHost(host), process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined);
      return await use(entry);
    } catch (err) {
      if (isGantryError(err)) throw err;
      throw keychainError(err, action, host);
    }
  }

  return {
    name: 'keychain',
    async get(host) {
      const secret = await withEntry(host, 'read', (entry) => entry.getPassword());
      if (secret === null) return undefined;
      return { credential: parseSecret(secret, host), from: 'keychain' };
    },
    async store(host, credential) {
      const secret = JSON.stringify({
        username: credential.username,
        password: credential.password,
        identityToken: credential.identityToken,
        registryToken: credential.registryToken,
      });
      await withEntry(host, 'write', (entry) => entry.setPassword(secret));
    },
    async erase(host) {
      return withEntry(host, 'delete', (entry) => entry.deleteCredential());
    },
  };
}

function parseSecret(secret: string, host: string): Credential {
  const { value } = parseJson(secret);
  const credential: Credential = {};
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const field of ['username', 'password', 'identityToken', 'registryToken'] as const) {
      const v = (value as Record<string, unknown>)[field];
      if (typeof v === 'string' && v !== '') credential[field] = v;
    }
  }
  if (Object.keys(credential).length === 0) {
    // The content is a secret: never shown.
    throw new GantryError('CREDENTIAL_STORE_FAILED', `the keychain entry for ${registryHost(host)} is not a gantry credential`, {
      hint: `Log in again to replace it: \`gantry login ${registryHost(host)}\`.`,
    });
  }
  return credential;
}

/**
 * keyring-rs reports an unreachable or locked store as "Platform failure" or
 * "Couldn't access platform secure storage" (its PlatformFailure and
 * NoStorageAccess errors); anything else is a problem with the entry itself.
 */
function keychainError(err: unknown, action: string, host: string): GantryError {
  const message = firstLine(err);
  if (/platform failure|couldn't access platform secure storage|no storage access/i.test(message)) {
    return new GantryError('KEYCHAIN_UNAVAILABLE', `the OS keychain is unavailable: ${message}`, { hint: UNAVAILABLE_HINT, cause: err });
  }
  return new GantryError('CREDENTIAL_STORE_FAILED', `cannot ${action} the keychain entry for ${registryHost(host)}: ${message}`, {
    hint: 'Inspect or delete the entry with your keychain tool (service "gantry"), then log in again.',
    cause: err,
  });
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}
