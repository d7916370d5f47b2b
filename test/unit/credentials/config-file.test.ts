import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  dockerConfigPath,
  findAuth,
  helperFor,
  loadDockerConfig,
  parseDockerConfig,
  perHostHelper,
} from '../../../src/credentials/config-file.js';
import { isGantryError } from '../../../src/errors/index.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-config-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const config = (data: unknown) => parseDockerConfig(JSON.stringify(data), '/cfg/config.json');

async function loadError(text: string): Promise<unknown> {
  await writeFile(join(dir, 'config.json'), text);
  try {
    await loadDockerConfig({ configDir: dir });
  } catch (err) {
    return err;
  }
  throw new Error('expected loadDockerConfig to reject');
}

describe('dockerConfigPath', () => {
  it('uses an explicit directory first, then $DOCKER_CONFIG, then ~/.docker', () => {
    const env = { DOCKER_CONFIG: '/from/env', HOME: '/home/someone' };
    expect(dockerConfigPath({ configDir: '/explicit', env })).toBe('/explicit/config.json');
    expect(dockerConfigPath({ env })).toBe('/from/env/config.json');
    expect(dockerConfigPath({ env: { HOME: '/home/someone' } })).toBe('/home/someone/.docker/config.json');
    expect(dockerConfigPath({ env: {} })).toBe(join(homedir(), '.docker', 'config.json'));
  });
});

describe('loadDockerConfig', () => {
  it('treats a missing file as an empty config', async () => {
    const loaded = await loadDockerConfig({ configDir: join(dir, 'absent') });
    expect(loaded).toMatchObject({ exists: false, auths: {}, credHelpers: {}, credsStore: undefined, data: {} });
    expect(loaded.path).toBe(join(dir, 'absent', 'config.json'));
  });

  it('treats an empty file as an empty config', async () => {
    await writeFile(join(dir, 'config.json'), '  \n');
    await expect(loadDockerConfig({ configDir: dir })).resolves.toMatchObject({ exists: true, auths: {} });
  });

  it('reads $DOCKER_CONFIG from the given environment', async () => {
    await writeFile(join(dir, 'config.json'), JSON.stringify({ credsStore: 'pass' }));
    await expect(loadDockerConfig({ env: { DOCKER_CONFIG: dir } })).resolves.toMatchObject({ credsStore: 'pass' });
  });

  it('keeps the whole document, unknown keys included', async () => {
    const data = {
      auths: { 'ghcr.io': { auth: b64('u:p') } },
      HttpHeaders: { 'X-Meta': 'v' },
      proxies: { default: { httpProxy: 'http://proxy:3128' } },
      'x-vendor-extension': { nested: [1, 2, { deep: true }] },
    };
    await writeFile(join(dir, 'config.json'), JSON.stringify(data));
    await expect(loadDockerConfig({ configDir: dir })).resolves.toMatchObject({ data });
  });

  it('accepts a UTF-8 byte-order mark', async () => {
    await writeFile(join(dir, 'config.json'), `\uFEFF${JSON.stringify({ credsStore: 'desktop' })}`);
    await expect(loadDockerConfig({ configDir: dir })).resolves.toMatchObject({ credsStore: 'desktop' });
  });

  it('rejects invalid JSON with CONFIG_INVALID naming the file', async () => {
    const err = await loadError('{"auths": {');
    expect(isGantryError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain(join(dir, 'config.json'));
  });

  it('says where the JSON breaks without quoting the text, which may be a password', async () => {
    const secret = b64('alice:supersecretpassword').replace(/=+$/, '');
    const err = await loadError(`{"auths":{"ghcr.io":{"auth":${secret}}}}`);
    expect(isGantryError(err, 'CONFIG_INVALID')).toBe(true);
    const message = (err as Error).message;
    expect(message).toContain('line 1, column 29');
    expect(message).not.toContain(secret.slice(0, 6));
    // --debug prints the cause chain: V8's SyntaxError quotes the text, so it is not kept.
    expect(String((err as Error).cause ?? '')).not.toContain(secret.slice(0, 6));
  });

  it('counts lines and columns in a multi-line config', async () => {
    const err = await loadError('{\n  "auths": {\n    "ghcr.io": {"auth": "x",}\n  }\n}');
    expect((err as Error).message).toContain('line 3, column 29');
  });

  it.each([
    ['a top-level array', '[]'],
    ['auths that is not an object', '{"auths": []}'],
    ['a credsStore that is not a string', '{"credsStore": 1}'],
    ['credHelpers with a non-string helper', '{"credHelpers": {"ghcr.io": true}}'],
  ])('rejects %s with CONFIG_INVALID', async (_, text) => {
    const err = await loadError(text);
    expect(isGantryError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain(join(dir, 'config.json'));
  });

  it('rejects an unreadable file with CREDENTIAL_STORE_FAILED', async () => {
    await mkdir(join(dir, 'config.json'));
    await expect(loadDockerConfig({ configDir: dir })).rejects.toMatchObject({ code: 'CREDENTIAL_STORE_FAILED' });
  });
});

describe('findAuth', () => {
  it.each(['ghcr.io', 'https://ghcr.io', 'http://ghcr.io/v2/', 'https://ghcr.io/v1/', 'GHCR.IO'])('finds a credential keyed %s', (key) => {
    const found = findAuth(config({ auths: { [key]: { auth: b64('u:p') } } }), 'ghcr.io');
    expect(found).toEqual({ key, credential: { username: 'u', password: 'p' } });
  });

  it('matches hosts with ports only on the same port', () => {
    const cfg = config({ auths: { 'http://localhost:5000/v2/': { auth: b64('a:1') }, 'localhost:5001': { auth: b64('b:2') } } });
    expect(findAuth(cfg, 'localhost:5000')?.credential).toEqual({ username: 'a', password: '1' });
    expect(findAuth(cfg, 'localhost:5001')?.credential).toEqual({ username: 'b', password: '2' });
    expect(findAuth(cfg, 'localhost')).toBeUndefined();
  });

  it.each(['docker.io', 'index.docker.io', 'registry-1.docker.io'])("finds Docker Hub's https://index.docker.io/v1/ entry for %s", (host) => {
    const cfg = config({ auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } });
    expect(findAuth(cfg, host)).toEqual({ key: 'https://index.docker.io/v1/', credential: { username: 'hub', password: 'pw' } });
  });

  it("prefers docker's own key when the host is there in several spellings", () => {
    const cfg = config({ auths: { 'https://ghcr.io': { auth: b64('old:1') }, 'ghcr.io': { auth: b64('new:2') } } });
    expect(findAuth(cfg, 'ghcr.io')?.credential).toEqual({ username: 'new', password: '2' });
  });

  it("yields nothing for docker's secretless marker (the secret is in a helper)", () => {
    expect(findAuth(config({ auths: { 'ghcr.io': {} } }), 'ghcr.io')).toBeUndefined();
  });

  it('does not trip over a malformed entry for another host', () => {
    const cfg = config({ auths: { 'quay.io': { auth: '!!!' }, 'ghcr.io': { auth: b64('u:p') } } });
    expect(findAuth(cfg, 'ghcr.io')?.credential).toEqual({ username: 'u', password: 'p' });
    expect(() => findAuth(cfg, 'quay.io')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('helperFor', () => {
  it('uses credHelpers[host] before credsStore', () => {
    const cfg = config({ credsStore: 'desktop', credHelpers: { 'ghcr.io': 'gh', '123.dkr.ecr.us-east-1.amazonaws.com': 'ecr-login' } });
    expect(helperFor(cfg, 'ghcr.io')).toBe('gh');
    expect(helperFor(cfg, '123.dkr.ecr.us-east-1.amazonaws.com')).toBe('ecr-login');
    expect(helperFor(cfg, 'quay.io')).toBe('desktop');
    expect(perHostHelper(cfg, 'quay.io')).toBeUndefined();
  });

  it("finds Docker Hub's helper under any of its names", () => {
    expect(helperFor(config({ credHelpers: { 'https://index.docker.io/v1/': 'hub' } }), 'docker.io')).toBe('hub');
    expect(helperFor(config({ credHelpers: { 'docker.io': 'hub' } }), 'index.docker.io')).toBe('hub');
  });

  it('reports an empty credHelpers entry as pinned to the file, and no helper at all as undefined', () => {
    const cfg = config({ credsStore: 'desktop', credHelpers: { 'localhost:5000': '' } });
    expect(helperFor(cfg, 'localhost:5000')).toBe('');
    expect(helperFor(config({}), 'ghcr.io')).toBeUndefined();
    expect(helperFor(config({ credsStore: '' }), 'ghcr.io')).toBeUndefined();
  });
});
