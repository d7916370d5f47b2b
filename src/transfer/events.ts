import type { Descriptor } from '../media/types.js';
import type { BlobAction } from '../transports/types.js';

/**
 * What the copy engine reports while it works. The CLI renders these as
 * docker-like progress on a TTY, plain lines otherwise, or a JSON result.
 */
export type TransferEvent =
  /** The plan is made: what will be looked at. */
  | { type: 'plan'; image: string; blobs: Descriptor[]; manifests: Descriptor[]; totalBytes: number }
  /** A blob waits for a slot. */
  | { type: 'blob-waiting'; blob: Descriptor }
  /** Bytes are moving; `bytes` counts from the start of the blob (resumed bytes included). */
  | { type: 'blob-progress'; blob: Descriptor; bytes: number; resumedFrom: number }
  /** Bytes are in; checking digest and size before publishing. */
  | { type: 'blob-verifying'; blob: Descriptor }
  /** Done: copied (with bytes actually sent), skipped (already there), or mounted (from repository). */
  | { type: 'blob-done'; blob: Descriptor; action: BlobAction; bytesSent: number; mountedFrom?: string }
  /** Attempt number `attempt` (1-based) failed with `error`; attempt `attempt + 1` follows after a backoff. */
  | { type: 'blob-retry'; blob: Descriptor; attempt: number; error: Error }
  | { type: 'manifest-done'; manifest: Descriptor; action: 'copied' | 'skipped' }
  | { type: 'committed'; root: Descriptor; names: string[] };

export type TransferEventHandler = (event: TransferEvent) => void;
