import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GantryError } from '../errors/index.js';
import { writeFileAtomic } from '../internal/atomic-file.js';
import { parseJson } from '../internal/parse-json.js';

/** gantry's own configuration file (`$GANTRY_CONFIG`, else `$XDG_CONFIG_HOME/gantry/config.json`). */
export interface Settings {
  /** Registries allowed over plain HTTP / unverified TLS, as docker's daemon.json `insecure-registries`. */
  insecureRegistries: string[];
  /** Where `gantry login` stores credentials by default. */
  credentialsStore: 'auto' | 'file' | 'keychain';
  caFile?: string;
  /**
   * Where to reach a registry instead of `https://<host>`: a pull-through
   * mirror, an air-gapped proxy, or a test server. Keys are registry hosts as
   * references name them (`docker.io`), values base URLs.
   */
  registryEndpoints: Record<string, string>;
  /** Source path, for messages. */
  path: string;
}

export function settingsPath(env: NodeJS.ProcessEnv): string {
  if (env.GANTRY_CONFIG) return env.GANTRY_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'gantry', 'config.json');
}

/** Reads the settings; a missing file means defaults. Throws CONFIG_INVALID naming the file and the field. */
export async function loadSettings(env: NodeJS.ProcessEnv): Promise<Settings> {
  const path = settingsPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { insecureRegistries: [], credentialsStore: 'auto', registryEndpoints: {}, path };
    throw new GantryError('CONFIG_INVALID', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  // parseJson reports only where the syntax breaks: V8's own message quotes the surrounding text.
  const parsed = parseJson(text);
  if (!parsed.ok) throw new GantryError('CONFIG_INVALID', `${path} is not valid JSON: syntax error at ${parsed.where}`);
  const raw: unknown = parsed.value;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new GantryError('CONFIG_INVALID', `${path} must hold a JSON object`);
  }
  const obj = raw as Record<string, unknown>;
  const insecure = obj['insecure-registries'] ?? [];
  if (!Array.isArray(insecure) || !insecure.every((x) => typeof x === 'string')) {
    throw new GantryError('CONFIG_INVALID', `${path}: "insecure-registries" must be a list of registry hosts`);
  }
  const store = obj['credentials-store'] ?? 'auto';
  if (store !== 'auto' && store !== 'file' && store !== 'keychain') {
    throw new GantryError('CONFIG_INVALID', `${path}: "credentials-store" must be "auto", "file" or "keychain"`);
  }
  const caFile = obj['ca-file'];
  if (caFile !== undefined && typeof caFile !== 'string') {
    throw new GantryError('CONFIG_INVALID', `${path}: "ca-file" must be a path`);
  }
  const endpoints = obj['registry-endpoints'] ?? {};
  if (typeof endpoints !== 'object' || endpoints === null || Array.isArray(endpoints)) {
    throw new GantryError('CONFIG_INVALID', `${path}: "registry-endpoints" must map registry hosts to URLs`);
  }
  for (const [host, url] of Object.entries(endpoints)) {
    if (typeof url !== 'string' || !/^https?:\/\/[^/]/.test(url)) {
      throw new GantryError('CONFIG_INVALID', `${path}: "registry-endpoints"."${host}" must be an http:// or https:// URL`);
    }
  }
  return {
    insecureRegistries: insecure,
    credentialsStore: store,
    registryEndpoints: endpoints as Record<string, string>,
    ...(caFile ? { caFile } : {}),
    path,
  };
}

/**
 * Set one key of the settings file, keeping every other key. Used when a
 * choice must outlive the command (`login --store keychain`).
 */
export async function saveSetting(env: NodeJS.ProcessEnv, key: string, value: unknown): Promise<string> {
  const path = settingsPath(env);
  let current: Record<string, unknown> = {};
  try {
    current = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new GantryError('CONFIG_INVALID', `cannot update ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  await writeFileAtomic(path, `${JSON.stringify({ ...current, [key]: value }, null, 2)}\n`, { mode: 0o600 });
  return path;
}
