import type { Platform } from '../media/types.js';
import type { Reference } from '../reference/types.js';
import type { MirrorRecord, MirrorSummary } from './report.js';
import type { Shard } from './shard.js';

/** Per-call options every mirror operation receives. */
export interface MirrorOpOptions {
  signal?: AbortSignal;
}

/** One image to copy: `source` and `destination` both carry `tag`. */
export interface MirrorCopyRequest {
  source: Reference;
  destination: Reference;
  tag: string;
  /** Platforms to copy; undefined copies every platform of an index. */
  platforms?: Platform[];
  /**
   * The root digest this copy writes (the source digest the plan compared),
   * when the run's HEADs suggest the destination lacks it: its tag there is
   * missing or names another digest, no other destination tag the run HEADed
   * names it, and no earlier copy of this run wrote it. Tag HEADs cannot see
   * an untagged manifest, so this is a hint for the engine (CopyOptions
   * `absentAtTarget`) to skip its own check, not a fact to rely on.
   */
  absentAtDestination?: string;
}

/** A registry's remaining pull budget, as its last response reported it. */
export interface RateBudget {
  remaining: number;
  limit: number;
}

/**
 * What a mirror run does to registries, injected so the runner stays above
 * the registry layer (the CLI wires these to the registry client and the
 * transfer engine; tests to fakes).
 */
export interface MirrorOps {
  /** Every tag of the repository; undefined when the repository does not exist. Throws for other failures. */
  listTags(repository: Reference, options: MirrorOpOptions): Promise<string[] | undefined>;
  /**
   * The digest `ref` (with a tag) names, by a HEAD request; undefined when
   * the tag or repository does not exist. With `platforms` (asked of sources
   * only), the root digest a copy filtered to those platforms would write:
   * for an index that takes a GET of it, since the filtered root's digest
   * (one child, or a smaller index) depends on its content. `source` marks
   * a source tag the run may `copy` next: an implementation may keep what it
   * learned (the root, the index) for that copy, so as not to ask again.
   */
  headDigest(ref: Reference, options: MirrorOpOptions & { platforms?: Platform[]; source?: boolean }): Promise<string | undefined>;
  /**
   * Copy one image; resolves with the bytes moved. The root copied is the
   * one `headDigest` saw for `request.source` when the implementation kept
   * it, else what the tag names now.
   */
  copy(request: MirrorCopyRequest, options: MirrorOpOptions): Promise<{ bytes: number }>;
  /** Remove one tag, keeping the manifest for its other tags. */
  untag(ref: Reference, options: MirrorOpOptions): Promise<void>;
  /** The budget the registry last reported; undefined when it reported none (no limit applies). */
  rateLimit?(registry: string): RateBudget | undefined;
}

export interface RunMirrorOptions {
  /** Plan only: list and HEAD, but copy and untag nothing. */
  dryRun?: boolean;
  /** Untag destination tags no longer selected; default: the spec's `defaults.prune`. */
  prune?: boolean;
  /** Skip destination tags that exist without comparing digests; default: the spec's `defaults.skipExisting`. */
  skipExisting?: boolean;
  shard?: Shard;
  /** Images copied at once; default: the spec's `defaults.concurrency`, else 4. */
  concurrency?: number;
  /** HEAD and tag-list requests in flight at once (default 8). */
  lookupConcurrency?: number;
  /**
   * Stop scheduling copies when a source registry's `remaining` falls to
   * this fraction of its `limit` or below (default 0.1): the rest of the
   * budget stays for the users and jobs sharing it.
   */
  rateLimitReserve?: number;
  signal?: AbortSignal;
  /** Called once per item as it settles (copied, failed, pruned, or planned under `dryRun`). */
  onRecord?: (record: MirrorRecord) => void;
  /** Non-fatal findings: an explicit tag the source lacks. */
  onWarning?: (message: string) => void;
}

/** Why a run stopped scheduling copies before the end. */
export interface RateLimitStop {
  registry: string;
  remaining: number;
  limit: number;
  /** Copies planned but not started. */
  undone: number;
}

export interface MirrorRunResult {
  /** One per planned item, in plan order. */
  records: MirrorRecord[];
  summary: MirrorSummary;
  /** Set when a low rate limit stopped the run early. */
  stopped?: RateLimitStop;
}
