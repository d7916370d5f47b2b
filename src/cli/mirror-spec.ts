import { readFile } from 'node:fs/promises';
import { GantryError } from '../errors/index.js';
import type { Platform } from '../media/types.js';
import { parseMirrorConfig, parseShard, parseSkopeoSync, selectTags, shardFromEnv, type MirrorSpec, type Shard } from '../mirror/index.js';
import { parseRepository } from '../reference/index.js';

/** The flags of `gantry mirror` that say what to mirror. */
export interface MirrorSpecFlags {
  file?: string;
  skopeoYaml?: string;
  scoped?: boolean;
  semver?: string;
  include?: string[];
  exclude?: string[];
  tag?: string[];
  latest?: number;
  platform?: Platform[];
  prerelease?: boolean;
}

/**
 * The mirror spec the command line describes: `-f FILE`, `--skopeo-yaml FILE DST`,
 * or `SRC DST` with selection flags (which only the one-shot form takes).
 * @throws GantryError USAGE for a wrong combination or a bad regex;
 *   CONFIG_INVALID from the file parsers; SEMVER_RANGE_INVALID; REFERENCE_INVALID.
 */
export async function mirrorSpecOf(args: string[], flags: MirrorSpecFlags): Promise<MirrorSpec> {
  const selectionFlags = ['semver', 'include', 'exclude', 'tag', 'latest', 'platform', 'prerelease'] as const;
  const fromFile = flags.file ?? flags.skopeoYaml;
  if (flags.file !== undefined && flags.skopeoYaml !== undefined) throw new GantryError('USAGE', '-f and --skopeo-yaml are alternatives: give one');
  if (fromFile !== undefined && selectionFlags.some((f) => flags[f] !== undefined)) {
    throw new GantryError('USAGE', 'tag selection flags apply to SRC DST only; a file says its own selection', {
      hint: 'Put semver, include, exclude, latest and platforms in the file.',
    });
  }
  if (flags.file !== undefined) {
    if (args.length > 0) throw new GantryError('USAGE', 'with -f the file names the repositories: give no SRC or DST');
    return parseMirrorConfig(await readText(flags.file), { fileName: flags.file });
  }
  if (flags.skopeoYaml !== undefined) {
    if (args.length !== 1) throw new GantryError('USAGE', '--skopeo-yaml FILE takes one DST argument, as skopeo sync does', { hint: 'gantry mirror --skopeo-yaml sync.yml registry.example.com/mirror' });
    return parseSkopeoSync(await readText(flags.skopeoYaml), { destination: args[0] as string, fileName: flags.skopeoYaml, ...(flags.scoped ? { scoped: true } : {}) });
  }
  if (args.length !== 2) throw new GantryError('USAGE', 'gantry mirror needs SRC_REPO DST_REPO, or -f FILE, or --skopeo-yaml FILE DST');
  const selection = {
    tags: flags.tag ?? [],
    ...(flags.semver === undefined ? {} : { semver: flags.semver }),
    include: (flags.include ?? []).map((r) => regex(r, '--include')),
    exclude: (flags.exclude ?? []).map((r) => regex(r, '--exclude')),
    ...(flags.latest === undefined ? {} : { latest: flags.latest }),
    includePrerelease: flags.prerelease === true,
  };
  // Checked now, before any request: a bad range is a usage error, not a failed image.
  selectTags(['0.0.0'], selection);
  const source = parseRepository(args[0] as string);
  const destination = parseRepository(args[1] as string);
  return {
    defaults: { skipExisting: false, prune: false, includePrerelease: selection.includePrerelease, registries: {} },
    sources: [{ repository: source, selection, destinations: [{ repository: destination }], ...(flags.platform ? { platforms: flags.platform } : {}) }],
  };
}

/**
 * `--shard I/N`, else `--shards N` with JOB_COMPLETION_INDEX (a Kubernetes Indexed Job), else none.
 * @throws GantryError USAGE for a malformed shard, both flags, or --shards without JOB_COMPLETION_INDEX.
 */
export function shardOfFlags(flags: { shard?: string; shards?: number }, env: NodeJS.ProcessEnv): Shard | undefined {
  if (flags.shard !== undefined && flags.shards !== undefined) throw new GantryError('USAGE', '--shard I/N and --shards N are alternatives: give one');
  if (flags.shard !== undefined) return parseShard(flags.shard);
  const fromEnv = shardFromEnv(env, flags.shards === undefined ? {} : { count: flags.shards });
  if (fromEnv === undefined && flags.shards !== undefined) {
    throw new GantryError('USAGE', '--shards N reads this job\'s index from JOB_COMPLETION_INDEX, which is not set', {
      hint: 'Outside a Kubernetes Indexed Job, give --shard I/N.',
    });
  }
  return fromEnv;
}

function regex(text: string, flag: string): RegExp {
  try {
    return new RegExp(text);
  } catch (err) {
    if (err instanceof SyntaxError) throw new GantryError('USAGE', `${flag} ${text}: invalid regular expression: ${err.message}`, { cause: err });
    throw err;
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new GantryError('NOT_FOUND', `${path}: no such file`, { cause: err });
    throw err;
  }
}
