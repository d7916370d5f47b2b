import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHelperStore } from '../../../src/credentials/helper-store.js';
import { createFakeHelperSandbox, type FakeHelperSandbox } from '../../helpers/credential-helper/fake-helper.js';

let sandbox: FakeHelperSandbox;

beforeEach(async () => {
  sandbox = await createFakeHelperSandbox();
});

afterEach(async () => {
  await sandbox.cleanup();
});

const helperStore = (env: Record<string, string | undefined> = sandbox.env, timeoutMs?: number) =>
  createHelperStore({ helper: 'gantrytest', env, timeoutMs });

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string; hint?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code: string; message: string; hint?: string };
  }
  throw new Error('expected a rejection');
}

describe('a docker-credential-* helper as a store', () => {
  it('stores and gets a login with the protocol JSON, passing the bare host', async () => {
    const store = helperStore();
    await store.store('GHCR.io', { username: 'robot', password: 'pa:ss word' });

    await expect(store.get('ghcr.io')).resolves.toEqual({ credential: { username: 'robot', password: 'pa:ss word' }, from: 'docker-credential-gantrytest' });
    const calls = await sandbox.calls();
    expect(calls.map((c) => c.action)).toEqual(['store', 'get']);
    expect(JSON.parse(calls[0]?.input ?? '')).toEqual({ ServerURL: 'ghcr.io', Username: 'robot', Secret: 'pa:ss word' });
    expect(calls[1]?.input).toBe('ghcr.io');
  });

  it("passes Docker Hub as docker does: https://index.docker.io/v1/", async () => {
    await sandbox.seed('gantrytest', 'https://index.docker.io/v1/', 'hub', 'pw');
    await expect(helperStore().get('registry-1.docker.io')).resolves.toMatchObject({ credential: { username: 'hub', password: 'pw' } });
    expect((await sandbox.calls())[0]?.input).toBe('https://index.docker.io/v1/');
  });

  it('files an identity token under the <token> username and reads it back as one', async () => {
    const store = helperStore();
    await store.store('ghcr.io', { username: 'ignored', identityToken: 'refresh-123' });
    expect(await sandbox.contents('gantrytest')).toEqual({ 'ghcr.io': { Username: '<token>', Secret: 'refresh-123' } });
    await expect(store.get('ghcr.io')).resolves.toMatchObject({ credential: { identityToken: 'refresh-123' } });
  });

  it('reads "credentials not found in native keychain" as nothing stored', async () => {
    await expect(helperStore().get('ghcr.io')).resolves.toBeUndefined();
  });

  it('reads an answer with an empty username and secret as nothing stored', async () => {
    await sandbox.seed('gantrytest', 'ghcr.io', '', '');
    await expect(helperStore().get('ghcr.io')).resolves.toBeUndefined();
  });

  it('reads the not-found message on stderr too', async () => {
    await expect(helperStore({ ...sandbox.env, GANTRYTEST_MODE: 'stderr-notfound' }).get('ghcr.io')).resolves.toBeUndefined();
  });

  it('erases a login and reports false when there was none', async () => {
    await sandbox.seed('gantrytest', 'ghcr.io', 'u', 'p');
    const store = helperStore();
    await expect(store.erase('ghcr.io')).resolves.toBe(true);
    await expect(store.erase('ghcr.io')).resolves.toBe(false);
    expect(await sandbox.contents('gantrytest')).toEqual({});
  });

  it('lists the server URLs the helper holds', async () => {
    await sandbox.seed('gantrytest', 'ghcr.io', 'a', '1');
    await sandbox.seed('gantrytest', 'https://index.docker.io/v1/', 'b', '2');
    await expect(helperStore().list()).resolves.toEqual({ 'ghcr.io': 'a', 'https://index.docker.io/v1/': 'b' });
  });

  it('fails with a hint naming the program and the config keys when the helper is not on PATH', async () => {
    const err = await failure(createHelperStore({ helper: 'not-installed', env: sandbox.env }).get('ghcr.io'));
    expect(err.code).toBe('CREDENTIAL_HELPER_FAILED');
    expect(err.message).toContain('docker-credential-not-installed');
    expect(err.hint).toContain('docker-credential-not-installed');
    expect(err.hint).toMatch(/credsStore/);
    expect(err.hint).toMatch(/credHelpers/);
  });

  it("fails on a non-zero exit with the helper's output", async () => {
    const err = await failure(helperStore({ ...sandbox.env, GANTRYTEST_MODE: 'fail' }).get('ghcr.io'));
    expect(err.code).toBe('CREDENTIAL_HELPER_FAILED');
    expect(err.message).toContain('exited with status 1');
    expect(err.message).toContain('boom: cannot reach the vault');
  });

  it('never shows the secret it sent, even when the helper prints it back', async () => {
    const err = await failure(helperStore({ ...sandbox.env, GANTRYTEST_MODE: 'fail' }).store('ghcr.io', { username: 'u', password: 'hunter2-secret' }));
    expect(err.code).toBe('CREDENTIAL_HELPER_FAILED');
    expect(err.message).toContain('boom');
    expect(err.message).toContain('[REDACTED]');
    expect(err.message).not.toContain('hunter2-secret');
  });

  it('never shows what a failing get printed as the protocol JSON, nor that secret on stderr', async () => {
    await sandbox.seed('gantrytest', 'ghcr.io', 'bob', 'TOPSECRET-123');
    const err = await failure(helperStore({ ...sandbox.env, GANTRYTEST_MODE: 'leak' }).get('ghcr.io'));
    expect(err.code).toBe('CREDENTIAL_HELPER_FAILED');
    expect(err.message).toContain('exited with status 1');
    expect(err.message).toContain('keychain is sulking');
    expect(err.message).not.toContain('TOPSECRET');
    expect(err.message).not.toContain('bob');
  });

  it("keeps a failing get's plain-text error on stdout, where docker's helpers print it", async () => {
    const err = await failure(helperStore({ ...sandbox.env, GANTRYTEST_STORE: undefined }).get('ghcr.io'));
    expect(err.code).toBe('CREDENTIAL_HELPER_FAILED');
    expect(err.message).toContain('GANTRYTEST_STORE is not set');
  });

  it('kills a helper that hangs and fails after the timeout', async () => {
    const started = Date.now();
    const err = await failure(helperStore({ ...sandbox.env, GANTRYTEST_MODE: 'hang' }, 500).get('ghcr.io'));
    expect(err.code).toBe('CREDENTIAL_HELPER_FAILED');
    expect(err.message).toContain('did not finish within 500 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails on output that is not the protocol JSON, without echoing it', async () => {
    const err = await failure(helperStore({ ...sandbox.env, GANTRYTEST_MODE: 'garbage' }).get('ghcr.io'));
    expect(err.code).toBe('CREDENTIAL_HELPER_FAILED');
    expect(err.message).toContain("not the protocol's JSON");
    expect(err.message).not.toContain('<html>');
  });

  it('stops reading a helper that floods its output', async () => {
    const err = await failure(helperStore({ ...sandbox.env, GANTRYTEST_MODE: 'flood' }).get('ghcr.io'));
    expect(err.code).toBe('CREDENTIAL_HELPER_FAILED');
    expect(err.message).toContain('printed more than');
  });

  it('surfaces the protocol error for a store without a username', async () => {
    const err = await failure(helperStore().store('ghcr.io', { password: 'p' }));
    expect(err).toMatchObject({ code: 'CREDENTIAL_HELPER_FAILED', message: expect.stringContaining('no credentials username') });
  });

  it('refuses a registry token, which the protocol cannot carry', async () => {
    await expect(helperStore().store('ghcr.io', { registryToken: 'bearer' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect(await sandbox.calls()).toEqual([]);
  });
});
