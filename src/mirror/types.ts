import type { Platform } from '../media/types.js';
import type { Reference } from '../reference/types.js';

/** Limits for one registry host, shared by every image that talks to it. */
export interface RegistryLimits {
  /** Requests in flight to this host at once. */
  connections?: number;
  /** Requests per second to this host. */
  rps?: number;
}

/** Settings that apply to every source unless the source overrides them. */
export interface MirrorDefaults {
  /** Platforms to copy; undefined copies every platform of an index. */
  platforms?: Platform[];
  /** Images copied at once across the whole run. */
  concurrency?: number;
  /** Treat destination tags as immutable: an existing tag is skipped without comparing digests. */
  skipExisting: boolean;
  /** Delete destination tags the selection no longer includes. */
  prune: boolean;
  /** Let semver ranges select prereleases and suffixed versions (`3.22-alpine`). */
  includePrerelease: boolean;
  /** Per-registry limits, keyed by normalized host (`docker.io`, `localhost:5000`). */
  registries: Record<string, RegistryLimits>;
}

/** How a source's tags are chosen; see `selectTags`. */
export interface TagSelection {
  /** Tags always selected when the source has them. */
  tags: string[];
  /** A node-semver range. */
  semver?: string;
  /** A tag must match every one of these (unanchored, as written). */
  include: RegExp[];
  /** A tag matching any of these is dropped (explicit tags excepted). */
  exclude: RegExp[];
  /** Keep only the newest N versions of those the filters chose. */
  latest?: number;
  includePrerelease: boolean;
}

/** One destination repository of a source, resolved to a Reference without tag. */
export interface MirrorDestination {
  repository: Reference;
}

/** One source repository with its selection and destinations, defaults applied. */
export interface MirrorSource {
  repository: Reference;
  selection: TagSelection;
  /** Platforms to copy; undefined: all. */
  platforms?: Platform[];
  destinations: MirrorDestination[];
  /** Where the source was declared (`mirror.yaml:12`), for messages. */
  origin?: string;
}

/** A mirror file, validated and normalized. */
export interface MirrorSpec {
  defaults: MirrorDefaults;
  sources: MirrorSource[];
}
