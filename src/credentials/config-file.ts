import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GantryError } from '../errors/index.js';
import { parseJson } from '../internal/parse-json.js';
import { decodeAuthEntry } from './auth-entry.js';
import { findKey, keyMatchesHost, registryHost, serverAddress } from './registry-key.js';
import type { Credential } from './types.js';

/** Where to look for docker's config: an explicit directory, else `$DOCKER_CONFIG`, else `~/.docker`. */
export interface DockerConfigLocation {
  configDir?: string;
  /** Environment to read DOCKER_CONFIG and HOME from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A parsed docker config.json. */
export interface DockerConfig {
  /** The file this was read from (whether or not it exists). */
  readonly path: string;
  readonly exists: boolean;
  /** The whole parsed document, unknown keys included, so a rewrite keeps them. Clone before changing. */
  readonly data: Readonly<Record<string, unknown>>;
  readonly auths: Readonly<Record<string, unknown>>;
  /** The default credential helper suffix (`desktop` for `docker-credential-desktop`). */
  readonly credsStore: string | undefined;
  /** Per-registry helper suffixes; an empty suffix pins the registry to config.json. */
  readonly credHelpers: Readonly<Record<string, string>>;
}

/** The config directory for a location: `configDir`, else `$DOCKER_CONFIG`, else `~/.docker` (docker's order). */
export function dockerConfigDir(location: DockerConfigLocation = {}): string {
  const env = location.env ?? process.env;
  if (location.configDir) return location.configDir;
  if (env.DOCKER_CONFIG) return env.DOCKER_CONFIG;
  return join(env.HOME || env.USERPROFILE || homedir(), '.docker');
}

/** The config.json path for a location. */
export function dockerConfigPath(location: DockerConfigLocation = {}): string {
  return join(dockerConfigDir(location), 'config.json');
}

/**
 * Read docker's config.json. A missing (or empty) file is an empty config.
 * Throws GantryError CONFIG_INVALID naming the file when it is not JSON (the
 * message gives the line and column, never the text) or
 * its `auths`/`credsStore`/`credHelpers` have the wrong shape, and
 * CREDENTIAL_STORE_FAILED when it exists but cannot be read.
 */
export async function loadDockerConfig(location: DockerConfigLocation = {}): Promise<DockerConfig> {
  const path = dockerConfigPath(location);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return parseDockerConfig('', path, false);
    throw new GantryError('CREDENTIAL_STORE_FAILED', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      hint: `Check the permissions of ${path}.`,
      cause: err,
    });
  }
  return parseDockerConfig(text, path, true);
}

/** Parse config.json text (see `loadDockerConfig` for what it throws). */
export function parseDockerConfig(text: string, path: string, exists = true): DockerConfig {
  // Editors on Windows may save a byte-order mark, which JSON.parse rejects.
  const body = text.replace(/^\uFEFF/, '');
  let data: unknown = {};
  if (body.trim() !== '') {
    const parsed = parseJson(body);
    // Only the place is reported: the text around it may be an `auth` (base64 user:password).
    if (!parsed.ok) {
      throw new GantryError('CONFIG_INVALID', `${path} is not valid JSON: syntax error at ${parsed.where}`, {
        hint: `Fix the file, or move it aside to start from an empty config.`,
        details: { file: path },
      });
    }
    data = parsed.value;
  }
  if (!isObject(data)) throw invalid(path, 'is not a JSON object');
  const auths = data.auths ?? {};
  if (!isObject(auths)) throw invalid(path, 'has an "auths" that is not an object');
  const credsStore = data.credsStore ?? undefined;
  if (credsStore !== undefined && typeof credsStore !== 'string') throw invalid(path, 'has a "credsStore" that is not a string');
  const credHelpers = data.credHelpers ?? {};
  if (!isObject(credHelpers) || !Object.values(credHelpers).every((v) => typeof v === 'string')) {
    throw invalid(path, 'has a "credHelpers" that is not an object of strings');
  }
  return {
    path,
    exists,
    data,
    auths,
    credsStore: credsStore === '' ? undefined : credsStore,
    credHelpers: credHelpers as Record<string, string>,
  };
}

/**
 * The credential helper docker would use for `host`: `credHelpers[host]`
 * (Docker Hub's entry may be keyed `https://index.docker.io/v1/` or any
 * alias), else `credsStore`. Resolves `''` when `credHelpers` pins the host to
 * the file (docker's way to exempt one registry from `credsStore`), undefined
 * when no helper is configured.
 */
export function helperFor(config: DockerConfig, host: string): string | undefined {
  const perHost = perHostHelper(config, host);
  return perHost !== undefined ? perHost : config.credsStore;
}

/** `credHelpers`' entry for `host` alone, ignoring `credsStore`. */
export function perHostHelper(config: DockerConfig, host: string): string | undefined {
  const keys = Object.keys(config.credHelpers);
  const key = keys.find((k) => k === registryHost(host) || k === serverAddress(host)) ?? keys.find((k) => keyMatchesHost(k, host));
  return key === undefined ? undefined : config.credHelpers[key];
}

/** The credential config.json's `auths` holds for `host`, with the key it was found under. */
export function findAuth(config: DockerConfig, host: string): { key: string; credential: Credential } | undefined {
  const key = findKey(Object.keys(config.auths), host);
  if (key === undefined) return undefined;
  const credential = decodeAuthEntry(config.auths[key], { file: config.path, key });
  return credential ? { key, credential } : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(path: string, what: string): GantryError {
  return new GantryError('CONFIG_INVALID', `${path} ${what}`, { hint: 'Fix the file: docker and gantry expect the layout `docker login` writes.', details: { file: path } });
}
