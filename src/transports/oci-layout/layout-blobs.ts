import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { createDigester, createOffThreadDigester, OFF_THREAD_HASH_BYTES, parseDigest, verifyBytes } from '../../digest/index.js';
import { GantryError } from '../../errors/index.js';
import { writeFileAtomic } from '../../internal/atomic-file.js';
import { fileSize, sizeMismatchError, stagedLength, UNSTAGED_MAX_BYTES, writeStagedFile } from '../../internal/blob-file.js';
import { parseManifest } from '../../media/index.js';
import type { Descriptor, Manifest } from '../../media/types.js';
import type { BlobReader, WriteBlobOptions } from '../types.js';
import { blobPath, partialBlobPath } from './layout-paths.js';
import { makeDirs } from '../../internal/make-dirs.js';

/*
 * Blob operations on a layout directory, shared by the layout, archive and
 * store transports. A file at `blobs/<alg>/<encoded>` is complete and
 * verified by construction (it is only ever renamed into place after
 * verification), so presence with the right size is proof enough.
 */

/** Manifests beyond this are refused rather than read into memory (registries cap them at 4 MiB). */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** True when the blob is in the layout with the descriptor's size. */
export async function hasLayoutBlob(dir: string, desc: Descriptor): Promise<boolean> {
  return (await fileSize(blobPath(dir, desc.digest))) === desc.size;
}

/** Bytes of the blob staged by an earlier, interrupted write (0 when none). */
export async function stagedLayoutBytes(dir: string, desc: Descriptor): Promise<number> {
  // Small blobs are never staged for a resume (see UNSTAGED_MAX_BYTES): nothing to look for.
  if (desc.size <= UNSTAGED_MAX_BYTES) return 0;
  return stagedLength(partialBlobPath(dir, desc.digest), desc.size);
}

/**
 * Stage, verify and publish a blob into the layout (see `writeStagedFile`):
 * resumes from `options.from`, and publishes nothing unverified.
 *
 * @throws GantryError SIZE_MISMATCH / DIGEST_MISMATCH (the staged bytes are
 *   deleted), UNSUPPORTED for a digest algorithm gantry cannot compute,
 *   INTERRUPTED on abort, or the body's / the file system's error.
 */
export async function writeLayoutBlob(dir: string, desc: Descriptor, body: Readable, options: WriteBlobOptions): Promise<void> {
  let algorithm: string;
  try {
    algorithm = parseDigest(desc.digest).algorithm;
    createDigester(algorithm);
  } catch (err) {
    body.destroy();
    throw err;
  }
  await writeStagedFile({
    partialPath: partialBlobPath(dir, desc.digest),
    finalPath: blobPath(dir, desc.digest),
    digest: desc.digest,
    size: desc.size,
    newHash: () => (desc.size >= OFF_THREAD_HASH_BYTES ? createOffThreadDigester(algorithm) : createDigester(algorithm)),
    body,
    from: options.from,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

/**
 * Store manifest bytes as a blob after checking them against `desc`
 * (atomically: a concurrent reader sees nothing or all of it).
 *
 * @throws GantryError SIZE_MISMATCH / DIGEST_MISMATCH when the bytes do not match.
 */
export async function writeLayoutManifest(dir: string, desc: Descriptor, bytes: Uint8Array): Promise<void> {
  verifyBytes(bytes, { digest: desc.digest, size: desc.size });
  if (await hasLayoutBlob(dir, desc)) return;
  const path = blobPath(dir, desc.digest);
  await makeDirs(dirname(path));
  await writeFileAtomic(path, bytes, { mode: 0o644 });
}

/**
 * Read a manifest or index blob, checked against the descriptor's size and digest.
 *
 * @throws GantryError MANIFEST_UNKNOWN when it is not in the layout,
 *   SIZE_MISMATCH / DIGEST_MISMATCH, MANIFEST_INVALID (too large, or malformed).
 */
export async function readLayoutManifest(dir: string, desc: Descriptor, where: string): Promise<Manifest> {
  if (desc.size > MAX_MANIFEST_BYTES) {
    throw new GantryError('MANIFEST_INVALID', `manifest ${desc.digest} is too large (${desc.size} bytes)`, {
      details: { digest: desc.digest, size: desc.size, limit: MAX_MANIFEST_BYTES },
    });
  }
  const path = blobPath(dir, desc.digest);
  const size = await fileSize(path);
  if (size === undefined) {
    throw new GantryError('MANIFEST_UNKNOWN', `manifest ${desc.digest} is not in ${where}`, { details: { digest: desc.digest } });
  }
  if (size !== desc.size) throw sizeMismatchError(desc.digest, desc.size, size);
  const bytes = await readFile(path);
  verifyBytes(bytes, { digest: desc.digest, size: desc.size });
  return parseManifest({ bytes, digest: desc.digest });
}

/**
 * A blob's bytes from `from` on, streamed from its file. The file's length is
 * checked against the descriptor; the digest is the reader's to verify.
 *
 * @throws GantryError BLOB_UNKNOWN when it is not in the layout, SIZE_MISMATCH
 *   for a file of another length; a plain RangeError for `from` outside 0..size.
 */
export async function openLayoutBlob(dir: string, desc: Descriptor, options: { from?: number; signal?: AbortSignal; where: string }): Promise<BlobReader> {
  const from = options.from ?? 0;
  if (!Number.isSafeInteger(from) || from < 0 || from > desc.size) throw new RangeError(`blob offset ${from} outside 0..${desc.size}`);
  const path = blobPath(dir, desc.digest);
  const size = await fileSize(path);
  if (size === undefined) {
    throw new GantryError('BLOB_UNKNOWN', `blob ${desc.digest} is not in ${options.where}`, { details: { digest: desc.digest } });
  }
  if (size !== desc.size) throw sizeMismatchError(desc.digest, desc.size, size);
  const body = createReadStream(path, { start: from, highWaterMark: 256 * 1024, ...(options.signal ? { signal: options.signal } : {}) });
  return { body, offset: from };
}
