import type { Descriptor, Platform } from '../media/types.js';
import type { BlobAction, ImageSource, ImageTarget } from '../transports/types.js';
import type { TransferEventHandler } from './events.js';

export interface CopyOptions {
  /** Blobs in flight at once for this copy (default: a measured default, see docs/performance.md). */
  concurrency?: number;
  /** Only these platforms of an index; one platform → a single manifest is written. Undefined: all. */
  platforms?: Platform[];
  /** Names (tags) to commit at the target; default: the source's names. */
  names?: string[];
  signal?: AbortSignal;
  onEvent?: TransferEventHandler;
  /**
   * Attempts per blob (open → verify → write) before giving up; default 3.
   * 401/403/404 are not retried, nor a request the HTTP client already
   * retried to the end of its policy (see isRetryable).
   */
  attempts?: number;
  /**
   * A limiter shared by several copies (mirror): caps blobs in flight per
   * registry across all of them. Undefined: each copy only has `concurrency`.
   */
  limiter?: import('../internal/limiter.js').Limiter;
  /**
   * The keys this copy's work takes a slot under in `limiter`: the registry
   * hosts it talks to, e.g. `['ghcr.io', 'registry.example.com']` (mirror knows
   * both ends). Default: the source's `origin.registry` when it has one, else
   * the single key `local`.
   */
  limiterKeys?: string[];
  /**
   * The keys a blob's check (its HEAD, and a mount: requests to the target
   * only) takes a slot under in `limiter`: mirror passes the destination's.
   * Default `limiterKeys`.
   */
  checkLimiterKeys?: string[];
  /** The backoff ceiling before the first retry, doubling per retry up to 8 s (default 250 ms). Tests shrink it. */
  retryDelayMs?: number;
  /**
   * Digests of manifests the caller has just found missing at the target
   * (mirror: the destination tag was absent or named another digest, and no
   * tag it looked at names this one). The engine takes them as absent
   * without asking the target again: it writes them, and checks their blobs
   * and children as usual. Only a hint, safe when wrong: a listed manifest the
   * target does have costs a check per blob (each found present and
   * skipped) and a rewrite of the same bytes, never missing content. Digests
   * the copy does not write are ignored.
   */
  absentAtTarget?: readonly string[];
  /**
   * The caller has just compared every request's names at the target and
   * found none pointing at its root (mirror copies only the tags that
   * differ): the engine commits them all without asking the target which
   * are already in place. Safe when wrong: a name already in place is
   * written again with the same bytes.
   */
  namesChecked?: boolean;
}

/** One root to copy and the names (tags) to commit for it at the target. */
export interface CopyRequest {
  root: Descriptor;
  names: string[];
}

/**
 * What `copyImages` did: one CopyResult per root, in request order (a blob
 * several roots share is listed in each of their results, with the action
 * taken once), and totals that count every blob and manifest once.
 */
export interface CopyImagesResult {
  images: CopyResult[];
  blobs: CopyResult['blobs'];
  manifests: CopyResult['manifests'];
  bytesSent: number;
  bytesSkipped: number;
  durationMs: number;
}

/** What a copy did, per blob and in total: the `--json` result of copy/pull/push. */
export interface CopyResult {
  source: string;
  target: string;
  /** The root written at the target (differs from the source's when platforms were filtered). */
  digest: string;
  mediaType: string;
  names: string[];
  blobs: Array<{ digest: string; size: number; action: BlobAction; bytesSent: number; mountedFrom?: string }>;
  manifests: Array<{ digest: string; action: 'copied' | 'skipped' }>;
  bytesSent: number;
  bytesSkipped: number;
  durationMs: number;
}

export type CopyImage = (source: ImageSource, target: ImageTarget, root: Descriptor, options?: CopyOptions) => Promise<CopyResult>;
