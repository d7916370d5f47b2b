import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileStore } from '../../../src/credentials/file-store.js';
import { runTsChild } from '../../helpers/credential-helper/ts-child.js';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-filestore-'));
  file = join(dir, 'config.json');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const readJson = async (): Promise<Record<string, unknown>> => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;

describe('the config.json store', () => {
  it('stores a login as base64 auth in a 0600 file and finds it again', async () => {
    const store = createFileStore({ configDir: dir });
    await store.store('ghcr.io', { username: 'robot', password: 'pa:ss' });

    expect(await readJson()).toEqual({ auths: { 'ghcr.io': { auth: b64('robot:pa:ss') } } });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await expect(store.get('ghcr.io')).resolves.toEqual({ credential: { username: 'robot', password: 'pa:ss' }, from: file });
  });

  it('writes tab-indented JSON, as docker does', async () => {
    await createFileStore({ configDir: dir }).store('ghcr.io', { username: 'u', password: 'p' });
    expect(await readFile(file, 'utf8')).toBe(`{\n\t"auths": {\n\t\t"ghcr.io": {\n\t\t\t"auth": "${b64('u:p')}"\n\t\t}\n\t}\n}`);
  });

  it('stores an identity token beside auth and never a plaintext password field', async () => {
    const store = createFileStore({ configDir: dir });
    await store.store('ghcr.io', { username: 'u', identityToken: 'refresh-me' });
    expect(await readJson()).toEqual({ auths: { 'ghcr.io': { auth: b64('u:'), identitytoken: 'refresh-me' } } });
    await expect(store.get('ghcr.io')).resolves.toMatchObject({ credential: { username: 'u', identityToken: 'refresh-me' } });
  });

  it('preserves every key it does not own', async () => {
    const original = {
      auths: {
        'quay.io': { auth: b64('q:1'), email: 'q@example.com' },
        'ghcr.io': { auth: b64('old:old'), email: 'me@example.com' },
      },
      credHelpers: { 'gcr.io': 'gcloud' },
      HttpHeaders: { 'X-Meta-Source': 'ci' },
      proxies: { default: { httpProxy: 'http://proxy:3128', noProxy: '*.local' } },
      currentContext: 'remote',
      'x-vendor': { list: [1, 'two', { three: null }], flag: false },
    };
    await writeFile(file, JSON.stringify(original, null, 2));

    await createFileStore({ configDir: dir }).store('ghcr.io', { username: 'new', password: 'new' });

    expect(await readJson()).toEqual({
      ...original,
      auths: { 'quay.io': original.auths['quay.io'], 'ghcr.io': { auth: b64('new:new'), email: 'me@example.com' } },
    });
  });

  it("keys Docker Hub as docker does and finds it under every alias", async () => {
    const store = createFileStore({ configDir: dir });
    await store.store('docker.io', { username: 'hub', password: 'pw' });
    expect(Object.keys((await readJson()).auths as object)).toEqual(['https://index.docker.io/v1/']);
    for (const alias of ['docker.io', 'index.docker.io', 'registry-1.docker.io']) {
      await expect(store.get(alias)).resolves.toMatchObject({ credential: { username: 'hub', password: 'pw' } });
    }
  });

  it('replaces other spellings of the same host so none can shadow the new login', async () => {
    await writeFile(file, JSON.stringify({ auths: { 'https://ghcr.io': { auth: b64('old:1') }, 'http://ghcr.io/v2/': { auth: b64('older:0') }, 'quay.io': {} } }));
    const store = createFileStore({ configDir: dir });
    await store.store('ghcr.io', { username: 'new', password: '2' });
    expect((await readJson()).auths).toEqual({ 'quay.io': {}, 'ghcr.io': { auth: b64('new:2') } });
  });

  it('erases every spelling of a host and reports whether there was one', async () => {
    await writeFile(file, JSON.stringify({ auths: { 'https://ghcr.io': { auth: b64('a:1') }, 'ghcr.io': { auth: b64('b:2') }, 'quay.io': { auth: b64('c:3') } }, credsStore: 'x' }));
    const store = createFileStore({ configDir: dir });
    await expect(store.erase('ghcr.io')).resolves.toBe(true);
    expect(await readJson()).toEqual({ auths: { 'quay.io': { auth: b64('c:3') } }, credsStore: 'x' });
    await expect(store.erase('ghcr.io')).resolves.toBe(false);
  });

  it('does not create config.json to erase from it', async () => {
    await expect(createFileStore({ configDir: dir }).erase('ghcr.io')).resolves.toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('creates the config directory and file on first login', async () => {
    const configDir = join(dir, 'fresh', '.docker');
    await createFileStore({ configDir }).store('ghcr.io', { username: 'u', password: 'p' });
    expect((await stat(configDir)).mode & 0o777).toBe(0o700);
    expect(await readdir(configDir)).toEqual(['config.json']);
  });

  it('refuses to overwrite a file it cannot parse', async () => {
    await writeFile(file, '{"auths": {"ghcr.io": ');
    await expect(createFileStore({ configDir: dir }).store('ghcr.io', { username: 'u', password: 'p' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    expect(await readFile(file, 'utf8')).toBe('{"auths": {"ghcr.io": ');
  });

  it('rejects a malformed entry for the host with CONFIG_INVALID on get', async () => {
    await writeFile(file, JSON.stringify({ auths: { 'ghcr.io': { auth: 'bm9jb2xvbg==' } } }));
    await expect(createFileStore({ configDir: dir }).get('ghcr.io')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('writes through a symlinked config.json and keeps the link', async () => {
    await mkdir(join(dir, 'dotfiles'));
    await writeFile(join(dir, 'dotfiles', 'docker.json'), JSON.stringify({ psFormat: 'table' }));
    await symlink(join(dir, 'dotfiles', 'docker.json'), file);

    await createFileStore({ configDir: dir }).store('ghcr.io', { username: 'u', password: 'p' });

    expect(await readlink(file)).toBe(join(dir, 'dotfiles', 'docker.json'));
    expect(JSON.parse(await readFile(join(dir, 'dotfiles', 'docker.json'), 'utf8'))).toEqual({
      psFormat: 'table',
      auths: { 'ghcr.io': { auth: b64('u:p') } },
    });
  });

  it('loses no login when many are stored at once', async () => {
    const store = createFileStore({ configDir: dir });
    const hosts = Array.from({ length: 30 }, (_, i) => `registry-${i}.example.test`);
    await Promise.all(hosts.map((host, i) => store.store(host, { username: `user${i}`, password: `pw${i}` })));
    const auths = (await readJson()).auths as Record<string, unknown>;
    expect(Object.keys(auths).sort()).toEqual([...hosts].sort());
    for (const [i, host] of hosts.entries()) {
      await expect(store.get(host)).resolves.toMatchObject({ credential: { username: `user${i}`, password: `pw${i}` } });
    }
  });

  it('loses no login when another process stores at the same time', async () => {
    const body = `
      const { createFileStore } = await load('src/credentials/file-store.ts');
      const store = createFileStore({ configDir: args.dir });
      await Promise.all(args.hosts.map((host) => store.store(host, { username: 'child', password: host })));
      return 'done';
    `;
    const childHosts = Array.from({ length: 15 }, (_, i) => `child-${i}.example.test`);
    let childDone = false;
    const child = runTsChild({ body, args: { dir, hosts: childHosts } }).finally(() => (childDone = true));
    const store = createFileStore({ configDir: dir });
    // Keep writing for as long as the child runs, so the two really contend.
    const parentHosts: string[] = [];
    for (let i = 0; (i < 15 || !childDone) && i < 5000; i++) {
      const host = `parent-${i}.example.test`;
      parentHosts.push(host);
      await store.store(host, { username: 'parent', password: host });
    }
    await expect(child).resolves.toEqual({ ok: true, value: 'done' });

    const auths = (await readJson()).auths as Record<string, unknown>;
    expect(Object.keys(auths).sort()).toEqual([...childHosts, ...parentHosts].sort());
  });

  it('fails with CREDENTIAL_STORE_FAILED while another process holds the lock', async () => {
    await writeFile(`${file}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), token: 'other' }));
    const store = createFileStore({ configDir: dir, lockTimeoutMs: 200 });
    const err = await store.store('ghcr.io', { username: 'u', password: 'p' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CREDENTIAL_STORE_FAILED' });
    expect((err as { hint?: string }).hint).toContain(`${file}.lock`);
  });

  it('fails with CREDENTIAL_STORE_FAILED when the config directory cannot be created', async () => {
    // A regular file where the directory should be: ENOTDIR even for root.
    await writeFile(join(dir, 'not-a-dir'), '');
    const attempt = createFileStore({ configDir: join(dir, 'not-a-dir', '.docker') }).store('ghcr.io', { username: 'u', password: 'p' });
    await expect(attempt).rejects.toMatchObject({ code: 'CREDENTIAL_STORE_FAILED', message: expect.stringMatching(/ENOTDIR|EEXIST/) });
  });
});
