import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeyringSession, type KeyringSession } from '../helpers/keyring-session.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { runBin } from '../helpers/run-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// `gantry login --store keychain` with the real executable, a real
// gnome-keyring on a private bus, and the htpasswd registry over TLS: the
// secret lands in the keychain (not in config.json), later commands find it,
// and logout removes it.

let keyring: KeyringSession;
let registry: RunningRegistry;
let work: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  keyring = await startKeyringSession();
  registry = await startRegistry({ mode: 'htpasswd-tls' });
  work = await makeTempDir('cli-keychain');
  env = { HOME: work, DOCKER_CONFIG: join(work, 'docker'), GANTRY_CONFIG: join(work, 'gantry.json'), ...keyring.env };
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  await keyring?.stop();
  await removeTempDir(work);
});

const gantry = (args: string[], stdin?: string) => runBin(['--ca-file', registry.caFile as string, ...args], { env, ...(stdin !== undefined ? { stdin } : {}) });

describe('gantry login --store keychain', () => {
  it('saves to the keychain, remembers the choice, and later commands use it', async () => {
    const login = await gantry(['login', '--store', 'keychain', registry.host, '-u', registry.username as string, '--password-stdin'], registry.password);
    expect(login.stderr).toMatch(/keychain/);
    expect(login.code).toBe(0);
    expect(login.stdout).toMatch(/Login Succeeded/);

    const dockerConfig = await readFile(join(work, 'docker', 'config.json'), 'utf8').catch(() => '');
    expect(dockerConfig).not.toContain(Buffer.from(`${registry.username}:${registry.password}`).toString('base64'));
    expect(JSON.parse(await readFile(join(work, 'gantry.json'), 'utf8'))['credentials-store']).toBe('keychain');

    const catalog = await gantry(['catalog', registry.host]);
    expect(catalog.stderr).toBe('');
    expect(catalog.code).toBe(0);
  });

  it('logout erases the keychain entry, and the registry then refuses', async () => {
    const out = await gantry(['logout', registry.host]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Removing login credentials/);
    const after = await gantry(['catalog', registry.host]);
    expect(after.code).toBe(3);
  });

  it('a keychain that cannot be reached is reported, exit 3', async () => {
    const r = await runBin(['--ca-file', registry.caFile as string, 'catalog', registry.host], {
      env: { ...env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(work, 'no-bus')}` },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/keychain/i);
  });
});
