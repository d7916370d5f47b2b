import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDockerCredentials, type DockerCredentialsOptions } from '../../../src/credentials/docker-credentials.js';
import type { KeychainStore } from '../../../src/credentials/keychain-store.js';
import type { Credential } from '../../../src/credentials/types.js';
import { GantryError } from '../../../src/errors/index.js';
import { createFakeHelperSandbox, type FakeHelperSandbox } from '../../helpers/credential-helper/fake-helper.js';

let sandbox: FakeHelperSandbox;

beforeEach(async () => {
  sandbox = await createFakeHelperSandbox(['other']);
  await mkdir(sandbox.configDir);
});

afterEach(async () => {
  await sandbox.cleanup();
});

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const configFile = (): string => join(sandbox.configDir, 'config.json');
const writeConfig = (data: unknown): Promise<void> => writeFile(configFile(), JSON.stringify(data));
const readConfig = async (): Promise<Record<string, unknown>> => JSON.parse(await readFile(configFile(), 'utf8')) as Record<string, unknown>;

/** An in-memory keychain that records which hosts were asked for. */
function memoryKeychain(options: { failWith?: GantryError } = {}): KeychainStore & { entries: Map<string, Credential>; asked: string[] } {
  const entries = new Map<string, Credential>();
  const asked: string[] = [];
  const check = (): void => {
    if (options.failWith) throw options.failWith;
  };
  return {
    name: 'keychain',
    entries,
    asked,
    async get(host) {
      asked.push(host);
      check();
      const credential = entries.get(host);
      return credential ? { credential, from: 'keychain' } : undefined;
    },
    async store(host, credential) {
      check();
      entries.set(host, credential);
    },
    async erase(host) {
      check();
      return entries.delete(host);
    },
  };
}

const credentials = (extra: Partial<DockerCredentialsOptions> = {}) =>
  createDockerCredentials({ configDir: sandbox.configDir, env: sandbox.env, keychainStore: memoryKeychain(), ...extra });

/** credHelpers routes ghcr.io to `gantrytest`, credsStore is `other`, and auths has a plaintext entry: each holds a different login. */
async function everyStoreHasALogin(): Promise<void> {
  await writeConfig({ credHelpers: { 'ghcr.io': 'gantrytest' }, credsStore: 'other', auths: { 'ghcr.io': { auth: b64('from-file:3') } } });
  await sandbox.seed('gantrytest', 'ghcr.io', 'from-cred-helper', '1');
  await sandbox.seed('other', 'ghcr.io', 'from-creds-store', '2');
}

describe('createDockerCredentials: get', () => {
  it('finds nothing, anonymously, when no store has the host', async () => {
    await expect(credentials().get('ghcr.io')).resolves.toBeUndefined();
  });

  it('asks credHelpers[host] first, then credsStore, then config.json', async () => {
    await everyStoreHasALogin();
    const creds = credentials();

    await expect(creds.get('ghcr.io')).resolves.toEqual({ credential: { username: 'from-cred-helper', password: '1' }, from: 'docker-credential-gantrytest' });

    await sandbox.forget('gantrytest', 'ghcr.io');
    await expect(creds.get('ghcr.io')).resolves.toEqual({ credential: { username: 'from-creds-store', password: '2' }, from: 'docker-credential-other' });

    await sandbox.forget('other', 'ghcr.io');
    await expect(creds.get('ghcr.io')).resolves.toEqual({ credential: { username: 'from-file', password: '3' }, from: configFile() });
  });

  it('does not run a per-host helper for other hosts', async () => {
    await everyStoreHasALogin();
    await sandbox.seed('other', 'quay.io', 'quay-user', 'q');
    await expect(credentials().get('quay.io')).resolves.toMatchObject({ from: 'docker-credential-other' });
    expect((await sandbox.calls()).map((c) => c.name)).toEqual(['docker-credential-other']);
  });

  it('consults the keychain after credHelpers and before credsStore and config.json', async () => {
    await everyStoreHasALogin();
    const keychain = memoryKeychain();
    keychain.entries.set('ghcr.io', { username: 'from-keychain', password: 'k' });
    const creds = credentials({ keychain: true, keychainStore: keychain });

    await expect(creds.get('ghcr.io')).resolves.toMatchObject({ from: 'docker-credential-gantrytest' });
    await sandbox.forget('gantrytest', 'ghcr.io');
    await expect(creds.get('ghcr.io')).resolves.toEqual({ credential: { username: 'from-keychain', password: 'k' }, from: 'keychain' });
  });

  it('leaves the keychain alone unless asked to use it', async () => {
    const keychain = memoryKeychain();
    keychain.entries.set('ghcr.io', { username: 'from-keychain', password: 'k' });
    await expect(credentials({ keychainStore: keychain }).get('ghcr.io')).resolves.toBeUndefined();
    expect(keychain.asked).toEqual([]);
  });

  it('skips credsStore for a host that credHelpers pins to the file with an empty name', async () => {
    await writeConfig({ credHelpers: { 'localhost:5000': '' }, credsStore: 'other', auths: { 'localhost:5000': { auth: b64('local:pw') } } });
    await sandbox.seed('other', 'localhost:5000', 'from-creds-store', '2');
    await expect(credentials().get('localhost:5000')).resolves.toMatchObject({ credential: { username: 'local', password: 'pw' } });
    expect(await sandbox.calls()).toEqual([]);
  });

  it("passes Docker Hub to helpers as docker does, whichever alias is asked for", async () => {
    await writeConfig({ credsStore: 'other' });
    await sandbox.seed('other', 'https://index.docker.io/v1/', 'hub', 'pw');
    await expect(credentials().get('registry-1.docker.io')).resolves.toMatchObject({ credential: { username: 'hub', password: 'pw' } });
    expect((await sandbox.calls())[0]?.input).toBe('https://index.docker.io/v1/');
  });

  it('rejects when a helper fails instead of falling back to another store or to anonymous', async () => {
    await everyStoreHasALogin();
    const creds = credentials({ env: { ...sandbox.env, GANTRYTEST_MODE_other: 'fail' } });
    await sandbox.forget('gantrytest', 'ghcr.io');
    await expect(creds.get('ghcr.io')).rejects.toMatchObject({ code: 'CREDENTIAL_HELPER_FAILED', message: expect.stringContaining('docker-credential-other') });
  });

  it('rejects when the configured helper is not installed', async () => {
    await writeConfig({ credsStore: 'desktop', auths: { 'ghcr.io': { auth: b64('u:p') } } });
    await expect(credentials().get('ghcr.io')).rejects.toMatchObject({
      code: 'CREDENTIAL_HELPER_FAILED',
      hint: expect.stringContaining('docker-credential-desktop'),
    });
  });

  it('rejects when the keychain is configured but unavailable', async () => {
    const keychain = memoryKeychain({ failWith: new GantryError('KEYCHAIN_UNAVAILABLE', 'no bus') });
    await writeConfig({ auths: { 'ghcr.io': { auth: b64('u:p') } } });
    await expect(credentials({ keychain: true, keychainStore: keychain }).get('ghcr.io')).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
  });

  it('reads config.json afresh on every call', async () => {
    const creds = credentials();
    await expect(creds.get('ghcr.io')).resolves.toBeUndefined();
    await writeConfig({ auths: { 'https://ghcr.io': { auth: b64('late:pw') } } });
    await expect(creds.get('ghcr.io')).resolves.toMatchObject({ credential: { username: 'late', password: 'pw' } });
  });
});

describe('createDockerCredentials: store', () => {
  it('writes to config.json when no helper is configured', async () => {
    const creds = credentials();
    await expect(creds.targetFor('ghcr.io')).resolves.toEqual({ store: 'file', from: configFile() });
    await creds.store('ghcr.io', { username: 'u', password: 'p' });
    expect(await readConfig()).toEqual({ auths: { 'ghcr.io': { auth: b64('u:p') } } });
    expect(await sandbox.calls()).toEqual([]);
  });

  it("writes to credHelpers[host]'s helper first, as docker does", async () => {
    await writeConfig({ credHelpers: { 'ghcr.io': 'gantrytest' }, credsStore: 'other' });
    const creds = credentials();
    await expect(creds.targetFor('ghcr.io')).resolves.toEqual({ store: 'helper', from: 'docker-credential-gantrytest', helper: 'gantrytest' });
    await creds.store('ghcr.io', { username: 'u', password: 'p' });
    expect(await sandbox.contents('gantrytest')).toEqual({ 'ghcr.io': { Username: 'u', Secret: 'p' } });
    expect(await sandbox.contents('other')).toEqual({});
  });

  it("writes to credsStore and leaves docker's secretless marker in config.json, dropping a plaintext login", async () => {
    await writeConfig({ credsStore: 'other', auths: { 'https://ghcr.io': { auth: b64('old:plaintext'), email: 'me@example.com' } }, psFormat: 'table' });
    await credentials().store('ghcr.io', { username: 'u', password: 'p' });

    expect(await sandbox.contents('other')).toEqual({ 'ghcr.io': { Username: 'u', Secret: 'p' } });
    expect(await readConfig()).toEqual({ credsStore: 'other', auths: { 'ghcr.io': { email: 'me@example.com' } }, psFormat: 'table' });
    await expect(credentials().get('ghcr.io')).resolves.toMatchObject({ credential: { username: 'u', password: 'p' }, from: 'docker-credential-other' });
  });

  it('honours an explicit store over where docker would write', async () => {
    await writeConfig({ credsStore: 'other' });
    const keychain = memoryKeychain();
    const creds = credentials({ keychainStore: keychain });

    await creds.store('ghcr.io', { username: 'file-user', password: 'f' }, { store: 'file' });
    expect((await readConfig()).auths).toEqual({ 'ghcr.io': { auth: b64('file-user:f') } });

    await creds.store('quay.io', { username: 'kc-user', password: 'k' }, { store: 'keychain' });
    expect(keychain.entries.get('quay.io')).toEqual({ username: 'kc-user', password: 'k' });

    expect(await sandbox.contents('other')).toEqual({});
  });

  it('refuses store "helper" with USAGE when no helper is configured for the host', async () => {
    await writeConfig({ credHelpers: { 'localhost:5000': '' }, credsStore: 'other' });
    await expect(credentials().store('ghcr.io', { username: 'u', password: 'p' }, { store: 'helper' })).resolves.toBeUndefined();
    await expect(credentials().store('localhost:5000', { username: 'u', password: 'p' }, { store: 'helper' })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(credentials().targetFor('localhost:5000')).resolves.toEqual({ store: 'file', from: configFile() });
  });

  it('removes the keychain entry when a later login goes elsewhere, so the newest login is found', async () => {
    const keychain = memoryKeychain();
    keychain.entries.set('ghcr.io', { username: 'old', password: 'old' });
    const creds = credentials({ keychain: true, keychainStore: keychain });

    await creds.store('ghcr.io', { username: 'new', password: 'new' });

    expect(keychain.entries.has('ghcr.io')).toBe(false);
    await expect(creds.get('ghcr.io')).resolves.toMatchObject({ credential: { username: 'new', password: 'new' }, from: configFile() });
  });

  it('keeps a keychain login found first by later commands', async () => {
    await writeConfig({ credsStore: 'other', auths: { 'ghcr.io': { auth: b64('file:f') } } });
    await sandbox.seed('other', 'ghcr.io', 'creds-store', 'c');
    const keychain = memoryKeychain();
    const creds = credentials({ keychain: true, keychainStore: keychain });

    await creds.store('ghcr.io', { username: 'kc', password: 'k' }, { store: 'keychain' });

    await expect(credentials({ keychain: true, keychainStore: keychain }).get('ghcr.io')).resolves.toMatchObject({ credential: { username: 'kc' }, from: 'keychain' });
  });
});

describe('createDockerCredentials: erase', () => {
  it('removes the host from every store that has it', async () => {
    await everyStoreHasALogin();
    const keychain = memoryKeychain();
    keychain.entries.set('ghcr.io', { username: 'kc', password: 'k' });
    const creds = credentials({ keychain: true, keychainStore: keychain });

    await expect(creds.erase('ghcr.io')).resolves.toBe(true);

    expect(await sandbox.contents('gantrytest')).toEqual({});
    expect(await sandbox.contents('other')).toEqual({});
    expect(keychain.entries.size).toBe(0);
    expect((await readConfig()).auths).toEqual({});
    await expect(creds.get('ghcr.io')).resolves.toBeUndefined();
    await expect(creds.erase('ghcr.io')).resolves.toBe(false);
  });

  it('still erases the other stores when one fails, then reports the failure', async () => {
    await writeConfig({ credsStore: 'other', auths: { 'ghcr.io': { auth: b64('u:p') } } });
    const creds = credentials({ env: { ...sandbox.env, GANTRYTEST_MODE_other: 'fail' } });

    await expect(creds.erase('ghcr.io')).rejects.toMatchObject({ code: 'CREDENTIAL_HELPER_FAILED' });
    expect((await readConfig()).auths).toEqual({});
  });

  it('does not create config.json when there is nothing to erase', async () => {
    await expect(credentials().erase('ghcr.io')).resolves.toBe(false);
    expect(await readdir(sandbox.configDir)).toEqual([]);
  });
});
