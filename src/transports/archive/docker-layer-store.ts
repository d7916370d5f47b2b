import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDigester, parseDigest } from '../../digest/index.js';
import { GantryError } from '../../errors/index.js';
import { writeFileAtomic } from '../../internal/atomic-file.js';
import { abortError, throwIfAborted } from '../../internal/abort.js';
import { closedStream, createContentCheck, errorCode, fileSize, publishFile, unlinkIfPresent } from '../../internal/blob-file.js';
import { withFileLock } from '../../internal/file-lock.js';
import { baseMediaType } from '../../media/index.js';
import type { Descriptor } from '../../media/types.js';
import { createLayerDecompressor } from './layer-decompressor.js';
import { makeDirs } from '../../internal/make-dirs.js';

/*
 * Layers of a docker archive being written, kept uncompressed as `docker
 * save` and skopeo write them: `layers/<diff-id hex>.tar` in the staging
 * directory, plus `layer-ids/<alg>/<encoded>` mapping the layer's (compressed)
 * digest to its diff ID, written only after both are verified.
 */

/** True for a media type of an image layer (OCI or Docker, any compression, foreign or not). */
export function isLayerMediaType(mediaType: string): boolean {
  const mt = baseMediaType(mediaType);
  return mt.includes('.image.layer.') || mt.includes('.image.rootfs.');
}

/** The uncompressed tar of a layer in the staging dir. */
export function layerTarPath(staging: string, diffId: string): string {
  return join(staging, 'layers', `${parseDigest(diffId).encoded}.tar`);
}

function layerIdPath(staging: string, digest: string): string {
  const { algorithm, encoded } = parseDigest(digest);
  return join(staging, 'layer-ids', algorithm, encoded);
}

/** The diff ID (digest of the uncompressed tar) of a layer already stored, or undefined. */
export async function storedDiffId(staging: string, digest: string): Promise<string | undefined> {
  let diffId: string;
  try {
    diffId = (await readFile(layerIdPath(staging, digest), 'utf8')).trim();
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  return (await fileSize(layerTarPath(staging, diffId))) === undefined ? undefined : diffId;
}

/**
 * Store a layer uncompressed: `body` (the layer as its descriptor names it)
 * is verified against the descriptor's size and digest while it is
 * decompressed (gzip, told by its magic number) or passed through (plain
 * tar) and its diff ID computed, in one pass. The tar is published, and the
 * mapping written, only when the whole layer verified. Decompression cannot
 * resume mid-stream, so a layer is always written from its first byte; one
 * writer per layer at a time (a lock), as for every staged blob.
 *
 * @throws GantryError SIZE_MISMATCH / DIGEST_MISMATCH (nothing kept),
 *   UNSUPPORTED for zstd layers (node 20 has no zstd; refused by media type
 *   before any byte is read, or by magic number), MANIFEST_INVALID for a
 *   layer that verifies but is not valid gzip (layer-decompressor.ts),
 *   INTERRUPTED on abort.
 */
export async function storeLayer(
  staging: string,
  desc: Descriptor,
  body: Readable,
  options: { signal?: AbortSignal; onProgress?: (bytes: number) => void },
): Promise<void> {
  try {
    throwIfAborted(options.signal);
    const mediaType = baseMediaType(desc.mediaType);
    if (mediaType.endsWith('zstd')) {
      throw new GantryError('UNSUPPORTED', `layer ${desc.digest} is zstd-compressed, which gantry cannot decompress for a docker archive`, {
        hint: 'Write the image to an OCI layout or oci-archive instead, which keep layers as they are.',
      });
    }
    const { encoded, algorithm } = parseDigest(desc.digest);
    createDigester(algorithm);
    const partial = join(staging, 'layers', '.partial', `${algorithm}-${encoded}`);
    await makeDirs(join(staging, 'layers', '.partial'));
    const lockOptions = { timeoutMs: 60 * 60 * 1000, ...(options.signal ? { signal: options.signal } : {}) };
    await withFileLock(partial, () => decompressAndPublish(staging, desc, body, { ...options, partial, algorithm }), lockOptions);
  } catch (err) {
    // Waiting for the lock rejects with the signal's own reason; callers expect INTERRUPTED.
    if (options.signal?.aborted && !(err instanceof GantryError)) throw abortError(options.signal);
    throw err;
  } finally {
    if (!body.destroyed) body.destroy();
  }
}

async function decompressAndPublish(
  staging: string,
  desc: Descriptor,
  body: Readable,
  options: { signal?: AbortSignal; onProgress?: (bytes: number) => void; partial: string; algorithm: string },
): Promise<void> {
  if ((await storedDiffId(staging, desc.digest)) !== undefined) return;
  const check = createContentCheck({ digest: desc.digest, size: desc.size, hash: createDigester(options.algorithm) });
  let sent = 0;
  const progress = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      sent += chunk.byteLength;
      options.onProgress?.(sent);
      callback(null, chunk);
    },
  });
  const diff = createDigester('sha256');
  const diffTap = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      diff.update(chunk);
      callback(null, chunk);
    },
  });
  const out = createWriteStream(options.partial, { mode: 0o644 });
  try {
    await pipeline(body, check, progress, createLayerDecompressor(desc.digest), diffTap, out, options.signal ? { signal: options.signal } : {});
  } catch (err) {
    await closedStream(out);
    await unlinkIfPresent(options.partial);
    if (options.signal?.aborted) throw abortError(options.signal);
    throw err;
  }
  const diffId = diff.digest();
  await publishFile(options.partial, layerTarPath(staging, diffId));
  await makeDirs(join(staging, 'layer-ids', options.algorithm));
  await writeFileAtomic(layerIdPath(staging, desc.digest), diffId, { mode: 0o644 });
}
