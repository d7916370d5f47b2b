import { Transform, type TransformCallback } from 'node:stream';
import { GantryError } from '../errors/index.js';

/*
 * Checking bytes against a descriptor as they stream: the size as soon as it
 * is exceeded, the digest at the end. Shared by every writer of
 * content-addressed data (staged files, archive layer stores).
 */

/**
 * An incremental hash (node:crypto under `digest/`'s createDigester, or its
 * off-thread variant); structural, so `internal` need not import `digest`.
 */
export interface IncrementalHash {
  update(chunk: Uint8Array): unknown;
  /** `algorithm:hex` of everything fed so far. */
  digest(): string | Promise<string>;
  /**
   * Hash bytes `start..end` of a file the caller just wrote, instead of
   * passing them through `update` (an off-thread hash reads them itself).
   */
  updateFromFile?(path: string, start: number, end: number): void;
  /** A hash that works behind the caller's back (on a worker) asks it to wait here before feeding more. */
  ready?(): Promise<void> | undefined;
  /** Give up without a result. */
  dispose?(): void;
}

export interface ContentCheckOptions {
  /** The expected digest, `algorithm:hex`. */
  digest: string;
  /** The expected size in bytes. */
  size: number;
  /** A hash already fed the first `seen` bytes (a staged prefix), or fresh. */
  hash: IncrementalHash;
  /** Bytes already fed to `hash` before this stream (default 0). */
  seen?: number;
}

const CORRUPT_HINT = 'The source served different bytes than its descriptor says: retry, and report it if it persists.';

/** SIZE_MISMATCH for `digest`: `received` bytes where `expected` were due. */
export function sizeMismatchError(digest: string, expected: number, received: number): GantryError {
  const what = received > expected ? `more than the expected ${expected} bytes` : `${received} of the expected ${expected} bytes`;
  return new GantryError('SIZE_MISMATCH', `size mismatch for ${digest}: received ${what}`, {
    hint: CORRUPT_HINT,
    details: { digest, expectedSize: expected, received },
  });
}

/** DIGEST_MISMATCH: the bytes hashed to `actual`, not `expected`. */
export function digestMismatchError(expected: string, actual: string, size: number): GantryError {
  return new GantryError('DIGEST_MISMATCH', `digest mismatch: expected ${expected}, got ${actual}`, {
    hint: CORRUPT_HINT,
    details: { expected, actual, size },
  });
}

/** True for the two errors that mean "these bytes are not the content named". */
export function isIntegrityError(err: unknown): boolean {
  return err instanceof GantryError && (err.code === 'SIZE_MISMATCH' || err.code === 'DIGEST_MISMATCH');
}

/**
 * A pass-through that hashes and counts the bytes after a (possibly empty)
 * already-hashed prefix. It fails with SIZE_MISMATCH as soon as the total
 * passes `size` (the excess chunk is not passed on) and, at the end, with
 * SIZE_MISMATCH when short or DIGEST_MISMATCH when the hash differs: the size
 * first, as image-spec descriptor.md ("Verification") asks.
 */
export function createContentCheck(options: ContentCheckOptions): Transform {
  let seen = options.seen ?? 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      if (seen + chunk.byteLength > options.size) {
        callback(sizeMismatchError(options.digest, options.size, seen + chunk.byteLength));
        return;
      }
      seen += chunk.byteLength;
      options.hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (seen !== options.size) {
        callback(sizeMismatchError(options.digest, options.size, seen));
        return;
      }
      Promise.resolve(options.hash.digest()).then(
        (actual) => callback(actual === options.digest ? null : digestMismatchError(options.digest, actual, seen)),
        (err: Error) => callback(err),
      );
    },
  });
}

