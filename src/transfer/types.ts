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
  /** Attempts per blob (open → verify → write) before giving up; default 3. 401/403/404 are not retried. */
  attempts?: number;
  /**
   * A limiter shared by several copies (mirror): caps blobs in flight per
   * registry across all of them. Undefined: each copy only has `concurrency`.
   */
  limiter?: import('../internal/limiter.js').Limiter;
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
