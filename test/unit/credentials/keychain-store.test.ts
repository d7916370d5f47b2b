import { describe, expect, it } from 'vitest';
import { createKeychainStore, type KeyringEntry, type KeyringModule } from '../../../src/credentials/keychain-store.js';

interface FakeKeyring {
  module: KeyringModule;
  secrets: Map<string, string>;
  constructed: { service: string; account: string; options: unknown }[];
}

/** An in-memory stand-in for @napi-rs/keyring; `failWith` makes every entry operation throw that message. */
function fakeKeyring(failWith?: { onConstruct?: string; onUse?: string }): FakeKeyring {
  const secrets = new Map<string, string>();
  const constructed: FakeKeyring['constructed'] = [];
  class AsyncEntry implements KeyringEntry {
    private readonly key: string;
    constructor(service: string, account: string, options?: unknown) {
      if (failWith?.onConstruct) throw new Error(failWith.onConstruct);
      constructed.push({ service, account, options });
      this.key = `${service}/${account}`;
    }
    async getPassword(): Promise<string | null> {
      if (failWith?.onUse) throw new Error(failWith.onUse);
      return secrets.get(this.key) ?? null;
    }
    async setPassword(password: string): Promise<void> {
      if (failWith?.onUse) throw new Error(failWith.onUse);
      secrets.set(this.key, password);
    }
    async deleteCredential(): Promise<boolean> {
      if (failWith?.onUse) throw new Error(failWith.onUse);
      return secrets.delete(this.key);
    }
  }
  return { module: { AsyncEntry }, secrets, constructed };
}

describe('the keychain store', () => {
  it('keeps one entry per registry under service "gantry", the credential as JSON', async () => {
    const keyring = fakeKeyring();
    const store = createKeychainStore({ loadKeyring: async () => keyring.module });

    await store.store('Index.Docker.IO', { username: 'hub', password: 'pa:ss' });

    expect([...keyring.secrets.keys()]).toEqual(['gantry/docker.io']);
    expect(JSON.parse(keyring.secrets.get('gantry/docker.io') ?? '')).toEqual({ username: 'hub', password: 'pa:ss' });
    await expect(store.get('docker.io')).resolves.toEqual({ credential: { username: 'hub', password: 'pa:ss' }, from: 'keychain' });
  });

  it('round-trips identity and registry tokens', async () => {
    const keyring = fakeKeyring();
    const store = createKeychainStore({ loadKeyring: async () => keyring.module });
    await store.store('ghcr.io', { identityToken: 'refresh', registryToken: 'bearer' });
    await expect(store.get('ghcr.io')).resolves.toMatchObject({ credential: { identityToken: 'refresh', registryToken: 'bearer' } });
  });

  it('resolves undefined for a host it has nothing for, and erase reports whether it had one', async () => {
    const keyring = fakeKeyring();
    const store = createKeychainStore({ loadKeyring: async () => keyring.module });
    await expect(store.get('ghcr.io')).resolves.toBeUndefined();
    await store.store('ghcr.io', { username: 'u', password: 'p' });
    await expect(store.erase('ghcr.io')).resolves.toBe(true);
    await expect(store.erase('ghcr.io')).resolves.toBe(false);
  });

  it('honours another service name', async () => {
    const keyring = fakeKeyring();
    await createKeychainStore({ service: 'gantry-ci', loadKeyring: async () => keyring.module }).store('ghcr.io', { username: 'u', password: 'p' });
    expect([...keyring.secrets.keys()]).toEqual(['gantry-ci/ghcr.io']);
  });

  it('pins Linux entries to the Secret Service so a missing keyring is never hidden by the kernel keyring', async () => {
    const keyring = fakeKeyring();
    await createKeychainStore({ loadKeyring: async () => keyring.module }).get('ghcr.io');
    const expected = process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined;
    expect(keyring.constructed).toEqual([{ service: 'gantry', account: 'ghcr.io', options: expected }]);
  });

  it('fails with KEYCHAIN_UNAVAILABLE when the binding cannot load, and tries to load it again next time', async () => {
    let loads = 0;
    const keyring = fakeKeyring();
    const store = createKeychainStore({
      loadKeyring: async () => {
        loads++;
        if (loads === 1) throw new Error("Cannot find package '@napi-rs/keyring'");
        return keyring.module;
      },
    });
    const err = await store.get('ghcr.io').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE', message: expect.stringContaining('@napi-rs/keyring') });
    expect((err as { hint: string }).hint).toMatch(/keyring/);
    expect((err as { hint: string }).hint).toMatch(/credential helper|config\.json/);
    await expect(store.get('ghcr.io')).resolves.toBeUndefined();
    expect(loads).toBe(2);
  });

  it.each([
    ['an unreachable bus', { onUse: 'Platform failure: DBus error: Failed to connect to socket /run/user/1/bus' }],
    ['a bus failure while opening the entry', { onConstruct: 'Platform failure: DBus error: Failed to connect to socket /nope' }],
    ['a locked keyring', { onUse: "Couldn't access platform secure storage: collection is locked" }],
  ])('fails with KEYCHAIN_UNAVAILABLE on %s', async (_, failWith) => {
    const keyring = fakeKeyring(failWith);
    const store = createKeychainStore({ loadKeyring: async () => keyring.module });
    await expect(store.get('ghcr.io')).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    await expect(store.store('ghcr.io', { username: 'u', password: 'p' })).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    await expect(store.erase('ghcr.io')).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
  });

  it('fails with CREDENTIAL_STORE_FAILED on other keychain errors', async () => {
    const keyring = fakeKeyring({ onUse: 'Entry is matched by 2 credentials: [..]' });
    const store = createKeychainStore({ loadKeyring: async () => keyring.module });
    await expect(store.get('ghcr.io')).rejects.toMatchObject({ code: 'CREDENTIAL_STORE_FAILED', message: expect.stringContaining('ghcr.io') });
  });

  it('rejects an entry that is not gantry JSON without showing its content', async () => {
    const keyring = fakeKeyring();
    keyring.secrets.set('gantry/ghcr.io', 'plain-secret-value');
    const store = createKeychainStore({ loadKeyring: async () => keyring.module });
    const err = await store.get('ghcr.io').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CREDENTIAL_STORE_FAILED' });
    expect((err as Error).message).not.toContain('plain-secret-value');
  });
});
