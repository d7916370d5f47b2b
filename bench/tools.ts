import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandLine } from './measure.js';
import type { Tool } from './options.js';

/**
 * The command lines both tools run for a copy, each in a hermetic environment:
 * an empty docker config and auth file, a throwaway HOME and XDG dirs, so
 * neither reads the user's credentials or settings, and gantry gets a fresh
 * `$GANTRY_HOME` per run (no resumable state carried from one run to the next).
 */

/** Where an image is: an OCI layout tag, or a tag on a registry (plain HTTP, loopback). */
export type Location = { kind: 'oci'; dir: string; tag: string } | { kind: 'registry'; host: string; repository: string; tag: string };

export interface Tools {
  /** The command that copies `src` to `dst`; `runDir` is this run's own scratch dir. */
  copy(tool: Tool, src: Location, dst: Location, runDir: string): CommandLine;
  /**
   * Empty skopeo's blob-info cache, where it remembers which repositories
   * hold a blob (it mounts within a registry only from there). As root, that
   * cache is the machine's own (/var/lib/containers/cache: skopeo has no flag
   * to move it), so this deletes that file: a cache, rebuilt as skopeo runs.
   */
  forgetSkopeoCache(): Promise<void>;
}

/** Where skopeo keeps its blob-info cache: as root a fixed path, otherwise under XDG_DATA_HOME. */
const CACHE_FILE = 'blob-info-cache-v1.boltdb';
const ROOT_CACHE_DIR = '/var/lib/containers/cache';

function gantryLocation(loc: Location): string {
  return loc.kind === 'oci' ? `oci:${loc.dir}:${loc.tag}` : `${loc.host}/${loc.repository}:${loc.tag}`;
}

function skopeoLocation(loc: Location): string {
  return loc.kind === 'oci' ? `oci:${loc.dir}:${loc.tag}` : `docker://${loc.host}/${loc.repository}:${loc.tag}`;
}

/**
 * Prepare both tools' sandboxes under `dir`. `root` is the repository (for
 * `bin/gantry.js`).
 */
export async function createTools(options: { root: string; dir: string }): Promise<Tools> {
  const { root, dir } = options;
  const { gantryEnv, skopeoEnv, policy, authfile, registriesD, tmp } = await createSandbox(dir);

  // Each tool as its users type it: the registries are plain HTTP on 127.0.0.1, which gantry
  // (as docker) reaches without a flag; skopeo needs --*-tls-verify=false for them.
  const gantry = (src: Location, dst: Location, runDir: string): CommandLine => ({
    file: process.execPath,
    args: [join(root, 'bin', 'gantry.js'), 'copy', gantryLocation(src), gantryLocation(dst)],
    env: gantryEnv(runDir),
  });

  const skopeo = (src: Location, dst: Location): CommandLine => {
    const args = ['--policy', policy, '--registries.d', registriesD, '--tmpdir', tmp, 'copy', '--preserve-digests'];
    if (src.kind === 'registry') args.push('--src-tls-verify=false', '--src-authfile', authfile);
    if (dst.kind === 'registry') args.push('--dest-tls-verify=false', '--dest-authfile', authfile);
    args.push(skopeoLocation(src), skopeoLocation(dst));
    return { file: 'skopeo', args, env: skopeoEnv };
  };

  // Same sandbox as gantry; it reads none of it.
  const floor = (src: Location, dst: Location, runDir: string): CommandLine => ({
    file: process.execPath,
    args: [join(root, 'bench', 'floor', 'floor-copy.cjs'), gantryLocation(src), gantryLocation(dst)],
    env: gantryEnv(runDir),
  });

  return {
    copy: (tool, src, dst, runDir) => (tool === 'gantry' ? gantry(src, dst, runDir) : tool === 'skopeo' ? skopeo(src, dst) : floor(src, dst, runDir)),
    async forgetSkopeoCache() {
      const dirs = [join(skopeoEnv.XDG_DATA_HOME ?? join(dir, 'home'), 'containers', 'cache')];
      if (process.getuid?.() === 0) dirs.push(ROOT_CACHE_DIR);
      await Promise.all(dirs.map((d) => rm(join(d, CACHE_FILE), { force: true })));
    },
  };
}

/** The hermetic environments both tools run in: no user credentials, settings or caches reach either. */
export interface Sandbox {
  /** gantry's environment, with its own GANTRY_HOME under `runDir`. */
  gantryEnv(runDir: string): NodeJS.ProcessEnv;
  skopeoEnv: NodeJS.ProcessEnv;
  policy: string;
  authfile: string;
  registriesD: string;
  tmp: string;
}

/** Make the sandbox under `dir`: a HOME, an empty docker config and auth file, a policy accepting anything. */
export async function createSandbox(dir: string): Promise<Sandbox> {
  const home = join(dir, 'home');
  const tmp = join(dir, 'tmp');
  const dockerConfig = join(dir, 'docker-config');
  const registriesD = join(dir, 'registries.d');
  const policy = join(dir, 'policy.json');
  const authfile = join(dir, 'auth.json');
  const registriesConf = join(dir, 'registries.conf');
  await Promise.all([home, tmp, dockerConfig, registriesD].map((d) => mkdir(d, { recursive: true })));
  await Promise.all([
    writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] })),
    writeFile(authfile, JSON.stringify({ auths: {} })),
    writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: {} })),
    writeFile(registriesConf, 'unqualified-search-registries = []\n'),
  ]);
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_RUNTIME_DIR: home,
    TMPDIR: tmp,
    DOCKER_CONFIG: dockerConfig,
    NO_COLOR: '1',
  };
  return {
    gantryEnv: (runDir) => ({ ...base, GANTRY_HOME: join(runDir, 'gantry-home') }),
    skopeoEnv: { ...base, CONTAINERS_REGISTRIES_CONF: registriesConf, REGISTRY_AUTH_FILE: authfile },
    policy,
    authfile,
    registriesD,
    tmp,
  };
}
