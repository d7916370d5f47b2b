import { Transform, type TransformCallback } from 'node:stream';
import { GantryError } from '../errors/index.js';
import { createDigester, type Digester } from './digester.js';
import { parseDigest, type Digest } from './parse-digest.js';

/** What content is expected to be: its digest and, when known, its exact size in bytes. */
export interface ExpectedContent {
  digest: string;
  size?: number;
}

/** A pass-through stream that checks the bytes flowing through it. */
export interface DigestVerifier extends Transform {
  /** The digest the bytes must have. */
  readonly expected: Digest;
  /** How many bytes have passed through so far. */
  readonly bytesSeen: number;
}

const CORRUPT_HINT =
  'The content changed in transit or the source served the wrong bytes: retry, and tell the registry operator if it persists.';

/**
 * A Transform that passes bytes through unchanged while hashing and counting
 * them, in one pass and without buffering (backpressure is the stream's own).
 * The image-spec asks for the size to be checked before trusting the hash
 * (descriptor.md, "Verification"), so the stream fails with `SIZE_MISMATCH`
 * the moment more than `size` bytes arrive (the excess chunk is not passed
 * on), and at the end with `SIZE_MISMATCH` when fewer arrived, then
 * `DIGEST_MISMATCH` when the hash differs. Downstream must treat the bytes as
 * untrusted until the stream has ended without error.
 *
 * @throws GantryError `DIGEST_INVALID` (synchronously) for a malformed
 *   expected digest, `UNSUPPORTED` for an algorithm gantry cannot compute;
 *   a plain Error when `size` is not a non-negative safe integer.
 */
export function createVerifier(expected: ExpectedContent): DigestVerifier {
  const digest = parseDigest(expected.digest);
  checkSize(expected.size);
  return new VerifyingTransform(digest, createDigester(digest.algorithm), expected.size);
}

/**
 * Check in-memory content (a manifest, a config) against its expected size
 * and digest, size first.
 *
 * @throws GantryError `SIZE_MISMATCH`, `DIGEST_MISMATCH`; `DIGEST_INVALID` or
 *   `UNSUPPORTED` for an expected digest that is malformed or uncomputable.
 */
export function verifyBytes(bytes: Uint8Array, expected: ExpectedContent): void {
  const digest = parseDigest(expected.digest);
  checkSize(expected.size);
  if (expected.size !== undefined && bytes.byteLength !== expected.size) {
    throw sizeMismatch(digest.value, expected.size, bytes.byteLength, bytes.byteLength > expected.size);
  }
  const actual = createDigester(digest.algorithm).update(bytes).digest();
  if (actual !== digest.value) throw digestMismatch(digest.value, actual, bytes.byteLength);
}

class VerifyingTransform extends Transform implements DigestVerifier {
  readonly expected: Digest;
  private readonly digester: Digester;
  private readonly size: number | undefined;
  private seen = 0;

  constructor(expected: Digest, digester: Digester, size: number | undefined) {
    super();
    this.expected = expected;
    this.digester = digester;
    this.size = size;
  }

  get bytesSeen(): number {
    return this.seen;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const total = this.seen + chunk.byteLength;
    if (this.size !== undefined && total > this.size) {
      callback(sizeMismatch(this.expected.value, this.size, total, true));
      return;
    }
    this.seen = total;
    this.digester.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.size !== undefined && this.seen < this.size) {
      callback(sizeMismatch(this.expected.value, this.size, this.seen, false));
      return;
    }
    const actual = this.digester.digest();
    callback(actual === this.expected.value ? null : digestMismatch(this.expected.value, actual, this.seen));
  }
}

function checkSize(size: number | undefined): void {
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
    throw new Error(`expected size must be a non-negative safe integer, got ${String(size)}`);
  }
}

function sizeMismatch(digest: string, expected: number, received: number, long: boolean): GantryError {
  const what = long ? `more than the expected ${expected} bytes (at least ${received})` : `${received} of the expected ${expected} bytes`;
  return new GantryError('SIZE_MISMATCH', `size mismatch for ${digest}: received ${what}`, {
    hint: CORRUPT_HINT,
    details: { digest, expectedSize: expected, ...(long ? { receivedAtLeast: received } : { received }) },
  });
}

function digestMismatch(expected: string, actual: string, size: number): GantryError {
  return new GantryError('DIGEST_MISMATCH', `digest mismatch: expected ${expected}, got ${actual}`, {
    hint: CORRUPT_HINT,
    details: { expected, actual, size },
  });
}
