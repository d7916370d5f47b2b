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
  /** A mount from a remembered place worked: the registry mounts, whatever its refusals. */
  mounted(registry: string): void;
  /**
   * True when hints for `registry` are given up: in this run after a few
   * refusals, or for a day after a run that saw only refusals there (a
   * registry that mounts nothing, as ECR by default, would otherwise cost a
   * refused mount per blob on every push).
   */
  givenUp(registry: string): Promise<boolean>;
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
  /** The clock, in ms since the epoch (tests). Default Date.now. */
  now?: () => number;
}

/** 2: entries keyed by registry and identity (1 had no identities: its entries are not read). */
const VERSION = 2;
/** Refused hint mounts in one registry before this run stops trying hints there. */
const REFUSALS_BEFORE_GIVING_UP = 3;
/** How long a registry that only refused stays without hints. */
const GIVE_UP_MS = 24 * 60 * 60 * 1000;
/** What a save keeps at most (oldest entries of the least recently used registries go first): ~10,000 entries. */
const BUDGET_BYTES = 2 * 1024 * 1024;
/** A file larger than this was not written by gantry: it is ignored (and replaced). */
const MAX_FILE_BYTES = 2 * BUDGET_BYTES;
/** A repository name as the distribution spec allows it (lowercase path components). */
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** registry (with its identity, in the file) → digest → repositories, most recent first; insertion order is recency. */
type Table = Map<string, Map<string, string[]>>;

/** The file: the table, and registries given up until a time (ms since the epoch). */
interface Stored {
  table: Table;
  refused: Map<string, number>;
}

export function createBlobLocations(options: BlobLocationsOptions): BlobLocations {
  const maxDigests = options.maxDigests ?? 10_000;
  const maxRepositories = options.maxRepositories ?? 3;
  const maxRegistries = options.maxRegistries ?? 20;
  const now = options.now ?? Date.now;
  /** What this run learned (same shape, same recency order). */
  const learned: Table = new Map();
  /** registry → digest → repositories that refused a mount of it in this run. */
  const forgotten: Table = new Map();
  const refusals = new Map<string, number>();
  const worked = new Set<string>();
  let loaded: Promise<Stored> | undefined;
  const stored = (): Promise<Stored> => {
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
  const remove = (from: Table, registry: string, repository: string, digest: string): void => {
    const digests = from.get(registry);
    const left = digests?.get(digest)?.filter((r) => r !== repository);
    if (!digests || left === undefined) return;
    if (left.length > 0) digests.set(digest, left);
    else digests.delete(digest);
  };
  /** Within the caps, and within BUDGET_BYTES written: the oldest entries of the least recently used registries go first. */
  const trim = (into: Table): void => {
    for (const registry of into.keys()) {
      if (into.size <= maxRegistries) break;
      into.delete(registry);
    }
    let bytes = 0;
    for (const [registry, digests] of into) {
      for (const oldest of digests.keys()) {
        if (digests.size <= maxDigests) break;
        digests.delete(oldest);
      }
      bytes += registry.length + 8;
      for (const [digest, repositories] of digests) bytes += entryBytes(digest, repositories);
    }
    for (const [registry, digests] of into) {
      for (const [digest, repositories] of digests) {
        if (bytes <= BUDGET_BYTES) return;
        digests.delete(digest);
        bytes -= entryBytes(digest, repositories);
      }
      into.delete(registry);
    }
  };
  const givenUpInRun = (registry: string): boolean => (refusals.get(registry) ?? 0) >= REFUSALS_BEFORE_GIVING_UP && !worked.has(registry);
  const givenUp = async (registry: string): Promise<boolean> => {
    if (givenUpInRun(registry)) return true;
    if (worked.has(registry)) return false;
    return ((await stored()).refused.get(registry) ?? 0) > now();
  };

  return {
    async find(registry, digest) {
      if (await givenUp(registry)) return [];
      const gone = forgotten.get(registry)?.get(digest) ?? [];
      const key = await keyFor(registry);
      const known = key === undefined ? [] : ((await stored()).table.get(key)?.get(digest) ?? []);
      return [...new Set([...(learned.get(registry)?.get(digest) ?? []), ...known])].filter((r) => !gone.includes(r));
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
    mounted(registry) {
      worked.add(registry);
    },
    givenUp,
    async save() {
      const gaveUp = [...refusals.keys()].filter(givenUpInRun);
      if (learned.size === 0 && forgotten.size === 0 && gaveUp.length === 0 && worked.size === 0) return;
      // Read again: another run may have written since this one loaded.
      const current = await read(options.file, options.log);
      for (const [registry, digests] of forgotten) {
        const key = await keyFor(registry);
        if (key === undefined) continue;
        for (const [digest, repositories] of digests) for (const repository of repositories) remove(current.table, key, repository, digest);
      }
      for (const [registry, digests] of learned) {
        const key = await keyFor(registry);
        if (key === undefined) continue;
        for (const [digest, repositories] of digests) for (const repository of [...repositories].reverse()) add(current.table, key, repository, digest);
      }
      trim(current.table);
      for (const registry of gaveUp) current.refused.set(registry, now() + GIVE_UP_MS);
      for (const registry of worked) current.refused.delete(registry);
      for (const [registry, until] of current.refused) if (until <= now()) current.refused.delete(registry);
      const json = {
        version: VERSION,
        registries: Object.fromEntries([...current.table].map(([registry, digests]) => [registry, Object.fromEntries(digests)])),
        refused: Object.fromEntries(current.refused),
      };
      // A hint: not worth an fsync at the end of every command.
      await writeFileAtomic(options.file, `${JSON.stringify(json)}\n`, { mode: 0o600, durable: false });
      learned.clear();
      forgotten.clear();
      loaded = Promise.resolve(current);
    },
  };
}

/** The bytes one entry takes in the file, about: `"digest":["repo",...],`. */
function entryBytes(digest: string, repositories: readonly string[]): number {
  return digest.length + 6 + repositories.reduce((n, r) => n + r.length + 3, 0);
}

/** The file's contents; empty when it is missing, unreadable, too large or not ours (it is only a hint). */
async function read(file: string, log: ((line: string) => void) | undefined): Promise<Stored> {
  const empty = (): Stored => ({ table: new Map(), refused: new Map() });
  let text: string;
  try {
    if ((await stat(file)).size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log?.(`blob locations: ignoring ${file}: ${(err as Error).message}`);
    return empty();
  }
  const result = empty();
  try {
    const parsed = JSON.parse(text) as { version?: unknown; registries?: unknown; refused?: unknown };
    if (parsed.version !== VERSION || typeof parsed.registries !== 'object' || parsed.registries === null) throw new Error(`not a version ${VERSION} table`);
    for (const [registry, digests] of Object.entries(parsed.registries as Record<string, unknown>)) {
      if (typeof digests !== 'object' || digests === null) continue;
      const entries: Array<[string, string[]]> = [];
      for (const [digest, repositories] of Object.entries(digests as Record<string, unknown>)) {
        // Only names a registry could hold: a hand-edited entry must not become a request.
        const names = Array.isArray(repositories) ? repositories.filter((r): r is string => typeof r === 'string' && REPOSITORY.test(r)) : [];
        if (names.length > 0) entries.push([digest, names]);
      }
      result.table.set(registry, new Map(entries));
    }
    if (typeof parsed.refused === 'object' && parsed.refused !== null) {
      for (const [registry, until] of Object.entries(parsed.refused as Record<string, unknown>)) {
        if (typeof until === 'number' && Number.isFinite(until)) result.refused.set(registry, until);
      }
    }
  } catch (err) {
    log?.(`blob locations: ignoring ${file}: ${(err as Error).message}`);
    return empty();
  }
  return result;
}
