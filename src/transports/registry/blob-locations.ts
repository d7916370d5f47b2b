import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../../internal/atomic-file.js';

/**
 * Where blobs were last seen in registries: digest → repositories of a
 * registry that held it, learned as gantry pulls, finds, uploads and mounts.
 * A push of an image whose layers the registry already holds in another
 * repository can then mount them rather than send them, even when the
 * source is not that repository: the local store (`pull R/a`, `tag --local`,
 * `push R/b`, docker's "Mounted from a") or a layout pushed to several
 * repositories. docker keeps the same knowledge in its distribution
 * metadata, skopeo in its blob-info cache.
 *
 * A hint, never trusted: a mount from a remembered place that the registry
 * refuses, in whatever way, falls back to an upload, and the entry is
 * dropped. What one identity (`options.identity`: whose credentials) saw
 * is offered to that identity only, as docker keys its metadata by the auth
 * config: another user of the same `GANTRY_HOME` never asks for a mount
 * from, nor names in a token request, a repository only the first reached. One JSON file, `0600` (it names repositories the user reached),
 * rewritten whole and atomically; runs side by side may each drop what the
 * other learned, which only costs a mount that could have been.
 */
export interface BlobLocations {
  /**
   * Repositories of `registry` that held `digest`, most recently seen first;
   * none once this run gave up on hints for `registry` (see `refused`).
   */
  find(registry: string, digest: string): Promise<string[]>;
  /** Remember that `registry/repository` holds `digest` (kept in memory until `save`). */
  remember(registry: string, repository: string, digest: string): void;
  /**
   * A mount from `repository` was refused: forget that place for `digest`.
   * After a few refusals in one run (a registry that mounts nothing, or
   * credentials that reach none of the places), hints for `registry` are
   * given up until the run ends.
   */
  refused(registry: string, repository: string, digest: string): void;
  /** Write what this run learned and forgot, over what the file holds now. Does nothing when there is nothing. */
  save(): Promise<void>;
}

export interface BlobLocationsOptions {
  /** The file, e.g. `<stateDir>/blob-locations.json`. */
  file: string;
  /** Digests kept per registry, the least recently seen dropped first (default 10,000). */
  maxDigests?: number;
  /** Repositories kept per digest (default 3). */
  maxRepositories?: number;
  /** Registries kept, the least recently used dropped first (default 20). */
  maxRegistries?: number;
  /**
   * Who asks at `registry`: an opaque key for the credentials used there
   * (a hash; '' for anonymous access). Entries are kept per registry and
   * identity. Default: '' for every registry.
   */
  identity?: (registry: string) => Promise<string>;
  /** Debug lines (an unreadable file, a failed save); never a secret. */
  log?: (line: string) => void;
}

const VERSION = 1;
/** Refused hint mounts in one registry before this run stops trying hints there. */
const REFUSALS_BEFORE_GIVING_UP = 3;
/** A file larger than this was not written by these caps: it is ignored (and replaced). */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
/** A repository name as the distribution spec allows it (lowercase path components). */
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** registry (with its identity, in the file) → digest → repositories, most recent first; insertion order is recency. */
type Table = Map<string, Map<string, string[]>>;

export function createBlobLocations(options: BlobLocationsOptions): BlobLocations {
  const maxDigests = options.maxDigests ?? 10_000;
  const maxRepositories = options.maxRepositories ?? 3;
  const maxRegistries = options.maxRegistries ?? 20;
  /** What this run learned (same shape, same recency order). */
  const learned: Table = new Map();
  /** registry → digest → repositories that refused a mount of it in this run. */
  const forgotten: Table = new Map();
  const refusals = new Map<string, number>();
  let loaded: Promise<Table> | undefined;
  const table = (): Promise<Table> => {
    loaded ??= read(options.file, options.log);
    return loaded;
  };
  const identities = new Map<string, Promise<string | undefined>>();
  /**
   * The file's key for `registry` under this run's identity there: `registry` alone when
   * anonymous; undefined when the identity cannot be told (a failing credential helper):
   * then nothing is read or written for it.
   */
  const keyFor = async (registry: string): Promise<string | undefined> => {
    let identity = identities.get(registry);
    if (identity === undefined) {
      identity = (options.identity ? options.identity(registry) : Promise.resolve('')).catch((err: unknown) => {
        options.log?.(`blob locations: no hints for ${registry}: ${(err as Error).message}`);
        return undefined;
      });
      identities.set(registry, identity);
    }
    const who = await identity;
    if (who === undefined) return undefined;
    return who ? `${registry} ${who}` : registry;
  };

  const add = (into: Table, registry: string, repository: string, digest: string): void => {
    let digests = into.get(registry);
    // Re-inserted: the most recently used registry and digest go last, the oldest are dropped first.
    into.delete(registry);
    digests ??= new Map();
    into.set(registry, digests);
    const repositories = [repository, ...(digests.get(digest) ?? []).filter((r) => r !== repository)].slice(0, maxRepositories);
    digests.delete(digest);
    digests.set(digest, repositories);
  };
  const trim = (into: Table): void => {
    for (const registry of into.keys()) {
      if (into.size <= maxRegistries) break;
      into.delete(registry);
    }
    for (const digests of into.values()) {
      for (const oldest of digests.keys()) {
        if (digests.size <= maxDigests) break;
        digests.delete(oldest);
      }
    }
  };
  const remove = (from: Table, registry: string, repository: string, digest: string): void => {
    const digests = from.get(registry);
    const left = digests?.get(digest)?.filter((r) => r !== repository);
    if (!digests || left === undefined) return;
    if (left.length > 0) digests.set(digest, left);
    else digests.delete(digest);
  };

  return {
    async find(registry, digest) {
      if ((refusals.get(registry) ?? 0) >= REFUSALS_BEFORE_GIVING_UP) return [];
      const gone = forgotten.get(registry)?.get(digest) ?? [];
      const key = await keyFor(registry);
      const stored = key === undefined ? [] : ((await table()).get(key)?.get(digest) ?? []);
      return [...new Set([...(learned.get(registry)?.get(digest) ?? []), ...stored])].filter((r) => !gone.includes(r));
    },
    remember(registry, repository, digest) {
      add(learned, registry, repository, digest);
      remove(forgotten, registry, repository, digest);
    },
    refused(registry, repository, digest) {
      refusals.set(registry, (refusals.get(registry) ?? 0) + 1);
      remove(learned, registry, repository, digest);
      add(forgotten, registry, repository, digest);
    },
    async save() {
      if (learned.size === 0 && forgotten.size === 0) return;
      // Read again: another run may have written since this one loaded.
      const current = await read(options.file, options.log);
      for (const [registry, digests] of forgotten) {
        const key = await keyFor(registry);
        if (key === undefined) continue;
        for (const [digest, repositories] of digests) for (const repository of repositories) remove(current, key, repository, digest);
      }
      for (const [registry, digests] of learned) {
        const key = await keyFor(registry);
        if (key === undefined) continue;
        for (const [digest, repositories] of digests) for (const repository of [...repositories].reverse()) add(current, key, repository, digest);
      }
      trim(current);
      const json = {
        version: VERSION,
        registries: Object.fromEntries([...current].map(([registry, digests]) => [registry, Object.fromEntries(digests)])),
      };
      // A hint: not worth an fsync at the end of every command.
      await writeFileAtomic(options.file, `${JSON.stringify(json)}\n`, { mode: 0o600, durable: false });
      learned.clear();
      forgotten.clear();
      loaded = Promise.resolve(current);
    },
  };
}

/** The file's table; empty when it is missing, unreadable, too large or not ours (it is only a hint). */
async function read(file: string, log: ((line: string) => void) | undefined): Promise<Table> {
  let text: string;
  try {
    if ((await stat(file)).size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log?.(`blob locations: ignoring ${file}: ${(err as Error).message}`);
    return new Map();
  }
  const table: Table = new Map();
  try {
    const parsed = JSON.parse(text) as { version?: unknown; registries?: unknown };
    if (parsed.version !== VERSION || typeof parsed.registries !== 'object' || parsed.registries === null) throw new Error('not a version 1 table');
    for (const [registry, digests] of Object.entries(parsed.registries as Record<string, unknown>)) {
      if (typeof digests !== 'object' || digests === null) continue;
      const entries: Array<[string, string[]]> = [];
      for (const [digest, repositories] of Object.entries(digests as Record<string, unknown>)) {
        // Only names a registry could hold: a hand-edited entry must not become a request.
        const names = Array.isArray(repositories) ? repositories.filter((r): r is string => typeof r === 'string' && REPOSITORY.test(r)) : [];
        if (names.length > 0) entries.push([digest, names]);
      }
      table.set(registry, new Map(entries));
    }
  } catch (err) {
    log?.(`blob locations: ignoring ${file}: ${(err as Error).message}`);
    return new Map();
  }
  return table;
}
