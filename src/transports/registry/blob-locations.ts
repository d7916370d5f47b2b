import { readFile } from 'node:fs/promises';
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
 * A hint, never trusted: a mount the registry refuses falls back to an
 * upload. One JSON file, `0600` (it names repositories the user reached),
 * rewritten whole and atomically; runs side by side may each drop what the
 * other learned, which only costs a mount that could have been.
 */
export interface BlobLocations {
  /** Repositories of `registry` that held `digest`, most recently seen first. */
  find(registry: string, digest: string): Promise<string[]>;
  /** Remember that `registry/repository` holds `digest` (kept in memory until `save`). */
  remember(registry: string, repository: string, digest: string): void;
  /** Write what this run learned, over what the file holds now. Does nothing when nothing was learned. */
  save(): Promise<void>;
}

export interface BlobLocationsOptions {
  /** The file, e.g. `<stateDir>/blob-locations.json`. */
  file: string;
  /** Digests kept per registry, the least recently seen dropped first (default 10,000). */
  maxDigests?: number;
  /** Repositories kept per digest (default 3). */
  maxRepositories?: number;
  /** Debug lines (an unreadable file, a failed save); never a secret. */
  log?: (line: string) => void;
}

const VERSION = 1;

/** registry → digest → repositories, most recent first; insertion order is recency. */
type Table = Map<string, Map<string, string[]>>;

export function createBlobLocations(options: BlobLocationsOptions): BlobLocations {
  const maxDigests = options.maxDigests ?? 10_000;
  const maxRepositories = options.maxRepositories ?? 3;
  /** What this run learned, in the order it learned it. */
  const learned: Array<[string, string, string]> = [];
  let loaded: Promise<Table> | undefined;
  const table = (): Promise<Table> => {
    loaded ??= read(options.file, options.log);
    return loaded;
  };

  const add = (into: Table, registry: string, repository: string, digest: string): void => {
    let digests = into.get(registry);
    if (!digests) {
      digests = new Map();
      into.set(registry, digests);
    }
    const repositories = [repository, ...(digests.get(digest) ?? []).filter((r) => r !== repository)].slice(0, maxRepositories);
    // Re-inserted: the most recently seen digest goes last, the oldest is dropped first.
    digests.delete(digest);
    digests.set(digest, repositories);
    for (const oldest of digests.keys()) {
      if (digests.size <= maxDigests) break;
      digests.delete(oldest);
    }
  };

  return {
    async find(registry, digest) {
      const seen = learned.filter(([r, , d]) => r === registry && d === digest).map(([, repo]) => repo);
      const stored = (await table()).get(registry)?.get(digest) ?? [];
      return [...new Set([...seen.reverse(), ...stored])];
    },
    remember(registry, repository, digest) {
      learned.push([registry, repository, digest]);
    },
    async save() {
      if (learned.length === 0) return;
      // Read again: another run may have written since this one loaded.
      const current = await read(options.file, options.log);
      for (const [registry, repository, digest] of learned) add(current, registry, repository, digest);
      const json = {
        version: VERSION,
        registries: Object.fromEntries([...current].map(([registry, digests]) => [registry, Object.fromEntries(digests)])),
      };
      // A hint: not worth an fsync at the end of every command.
      await writeFileAtomic(options.file, `${JSON.stringify(json)}\n`, { mode: 0o600, durable: false });
      learned.length = 0;
      loaded = Promise.resolve(current);
    },
  };
}

/** The file's table; empty when it is missing, unreadable or not ours (it is only a hint). */
async function read(file: string, log: ((line: string) => void) | undefined): Promise<Table> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log?.(`blob locations: cannot read ${file}: ${(err as Error).message}`);
    return new Map();
  }
  const table: Table = new Map();
  try {
    const parsed = JSON.parse(text) as { version?: unknown; registries?: unknown };
    if (parsed.version !== VERSION || typeof parsed.registries !== 'object' || parsed.registries === null) throw new Error('not a version 1 table');
    for (const [registry, digests] of Object.entries(parsed.registries as Record<string, unknown>)) {
      if (typeof digests !== 'object' || digests === null) continue;
      const entries = Object.entries(digests as Record<string, unknown>).filter(
        (e): e is [string, string[]] => Array.isArray(e[1]) && e[1].every((r) => typeof r === 'string'),
      );
      table.set(registry, new Map(entries));
    }
  } catch (err) {
    log?.(`blob locations: ignoring ${file}: ${(err as Error).message}`);
    return new Map();
  }
  return table;
}
