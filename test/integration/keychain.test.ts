import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerCredentials, createKeychainStore } from '../../src/credentials/index.js';
import { runTsChild } from '../helpers/credential-helper/ts-child.js';
import { startKeyringSession, type KeyringSession } from '../helpers/keyring-session.js';

// @napi-rs/keyring connects to the session bus once per process and keeps
// that connection (or that failure), so this process is pointed at the private
// bus before its first keychain call, and every other bus setting is tried in
// a fresh child process.

/** Run `createDockerCredentials({ keychain: true })` operations in a fresh process. */
async function inChild(env: Record<string, string | undefined>, steps: unknown[], configDir: string) {
  return runTsChild({
    env,
    args: { steps, configDir },
    body: `
      const { createDockerCredentials } = await load('src/credentials/index.ts');
      const creds = createDockerCredentials({ keychain: true, configDir: args.configDir });
      const results = [];
      for (const step of args.steps) {
        try {
          const value = step.op === 'get' ? await creds.get(step.host)
            : step.op === 'erase' ? await creds.erase(step.host)
            : await creds.store(step.host, step.credential, { store: 'keychain' });
          results.push({ ok: true, value: value ?? null });
        } catch (err) {
          results.push({ ok: false, code: err.code, message: err.message, hint: err.hint });
        }
      }
      return results;
    `,
  });
}

describe('the OS keychain through a real gnome-keyring', () => {
  let session: KeyringSession;
  let configDir: string;
  const savedAddress = process.env.DBUS_SESSION_BUS_ADDRESS;

  beforeAll(async () => {
    session = await startKeyringSession();
    process.env.DBUS_SESSION_BUS_ADDRESS = session.address;
    configDir = await mkdtemp(join(tmpdir(), 'gantry-keychain-config-'));
  });

  afterAll(async () => {
    if (savedAddress === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    else process.env.DBUS_SESSION_BUS_ADDRESS = savedAddress;
    await session?.stop();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  it('stores, finds and erases a login in the keychain without writing config.json', async () => {
    const creds = createDockerCredentials({ keychain: true, configDir });
    const credential = { username: 'robot', password: 'pa:ss word' };

    await creds.store('registry.example.test:5000', credential, { store: 'keychain' });

    await expect(creds.get('registry.example.test:5000')).resolves.toEqual({ credential, from: 'keychain' });
    expect(await readdir(configDir)).toEqual([]);

    await expect(creds.erase('registry.example.test:5000')).resolves.toBe(true);
    await expect(creds.get('registry.example.test:5000')).resolves.toBeUndefined();
    await expect(creds.erase('registry.example.test:5000')).resolves.toBe(false);
  });

  it('keeps the login in the keyring daemon, where another process finds it', async () => {
    const creds = createDockerCredentials({ keychain: true, configDir });
    await creds.store('index.docker.io', { username: 'hubuser', identityToken: 'refresh-token-1' }, { store: 'keychain' });

    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: session.address };
    const outcome = await inChild(env, [{ op: 'get', host: 'docker.io' }, { op: 'erase', host: 'registry-1.docker.io' }, { op: 'get', host: 'docker.io' }], configDir);

    expect(outcome).toEqual({
      ok: true,
      value: [
        { ok: true, value: { credential: { username: 'hubuser', identityToken: 'refresh-token-1' }, from: 'keychain' } },
        { ok: true, value: true },
        { ok: true, value: null },
      ],
    });
    await expect(creds.get('docker.io')).resolves.toBeUndefined();
  });

  it('fails with KEYCHAIN_UNAVAILABLE, never anonymous, when no session bus is reachable', async () => {
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(configDir, 'no-such-bus')}` };
    const outcome = await inChild(
      env,
      [
        { op: 'get', host: 'ghcr.io' },
        { op: 'store', host: 'ghcr.io', credential: { username: 'u', password: 'p' } },
      ],
      configDir,
    );

    expect(outcome.ok).toBe(true);
    const results = (outcome as { value: { ok: boolean; code?: string; hint?: string }[] }).value;
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(result).toMatchObject({ ok: false, code: 'KEYCHAIN_UNAVAILABLE' });
      expect(result.hint).toMatch(/keyring/);
    }
  });

  it('files the entry under service "gantry" and the registry host, as JSON', async () => {
    const creds = createDockerCredentials({ keychain: true, configDir });
    await creds.store('Quay.IO', { username: 'bot', password: 's3cret' }, { store: 'keychain' });

    const outcome = await runTsChild({
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: session.address },
      body: `
        const { AsyncEntry } = await import('@napi-rs/keyring');
        const entry = new AsyncEntry('gantry', 'quay.io', { linux: { store: 'secret-service' } });
        return JSON.parse(await entry.getPassword());
      `,
    });

    expect(outcome).toEqual({ ok: true, value: { username: 'bot', password: 's3cret' } });
    await creds.erase('quay.io');
  });

  it('lets a later login elsewhere replace the keychain entry, so the newest login wins', async () => {
    const creds = createDockerCredentials({ keychain: true, configDir });
    await creds.store('ghcr.io', { username: 'old', password: 'old-pass' }, { store: 'keychain' });

    await creds.store('ghcr.io', { username: 'new', password: 'new-pass' });

    const found = await creds.get('ghcr.io');
    expect(found?.credential).toEqual({ username: 'new', password: 'new-pass' });
    expect(found?.from).toBe(join(configDir, 'config.json'));
    await expect(createKeychainStore().get('ghcr.io')).resolves.toBeUndefined();
    await creds.erase('ghcr.io');
  });
});

describe('the keyring session helper', () => {
  it('fails, naming the packages to install, when dbus-daemon is missing', async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = join(tmpdir(), 'gantry-no-such-bin');
    try {
      await expect(startKeyringSession()).rejects.toThrow(/dbus-daemon is not installed: .*apt-get install -y dbus gnome-keyring/);
    } finally {
      process.env.PATH = savedPath;
    }
  });
});
