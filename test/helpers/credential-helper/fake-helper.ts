import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The fake helper script, `docker-credential-gantrytest`. */
export const FAKE_HELPER = join(dirname(fileURLToPath(import.meta.url)), 'docker-credential-gantrytest');

export interface HelperCall {
  name: string;
  action: string;
  input: string;
}

/** A temp directory with fake credential helpers on PATH and an empty docker config dir. */
export interface FakeHelperSandbox {
  /** The sandbox root (removed by `cleanup`). */
  dir: string;
  /** A docker config directory inside the sandbox (config.json not created). */
  configDir: string;
  /** Environment whose PATH finds the fake helpers first and which tells them where to keep state. */
  env: Record<string, string | undefined>;
  /** Put a credential straight into a helper's state, as if stored earlier. */
  seed(helper: string, serverURL: string, username: string, secret: string): Promise<void>;
  /** Remove a credential from a helper's state behind gantry's back. */
  forget(helper: string, serverURL: string): Promise<void>;
  /** A helper's state: server URL → { Username, Secret }. */
  contents(helper: string): Promise<Record<string, { Username: string; Secret: string }>>;
  /** Every helper call so far, in order. */
  calls(): Promise<HelperCall[]>;
  cleanup(): Promise<void>;
}

/**
 * Make a sandbox where `docker-credential-<suffix>` runs the fake helper for
 * every suffix in `helpers` (`gantrytest` is always there).
 */
export async function createFakeHelperSandbox(helpers: readonly string[] = []): Promise<FakeHelperSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-helper-'));
  const bin = join(dir, 'bin');
  const storePath = join(dir, 'helper-state.json');
  const logPath = join(dir, 'helper-calls.log');
  await mkdir(bin);
  for (const suffix of new Set(['gantrytest', ...helpers])) await symlink(FAKE_HELPER, join(bin, `docker-credential-${suffix}`));

  const readState = async (): Promise<Record<string, Record<string, { Username: string; Secret: string }>>> => {
    try {
      return JSON.parse(await readFile(storePath, 'utf8')) as Record<string, Record<string, { Username: string; Secret: string }>>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
  };

  return {
    dir,
    configDir: join(dir, 'docker'),
    env: {
      ...process.env,
      PATH: [bin, process.env.PATH ?? ''].join(delimiter),
      GANTRYTEST_STORE: storePath,
      GANTRYTEST_LOG: logPath,
      DOCKER_CONFIG: undefined,
    },
    async seed(helper, serverURL, username, secret) {
      const state = await readState();
      const name = `docker-credential-${helper}`;
      state[name] = { ...state[name], [serverURL]: { Username: username, Secret: secret } };
      await writeFile(storePath, JSON.stringify(state));
    },
    async forget(helper, serverURL) {
      const state = await readState();
      delete state[`docker-credential-${helper}`]?.[serverURL];
      await writeFile(storePath, JSON.stringify(state));
    },
    async contents(helper) {
      return (await readState())[`docker-credential-${helper}`] ?? {};
    },
    async calls() {
      let text: string;
      try {
        text = await readFile(logPath, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as HelperCall);
    },
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
