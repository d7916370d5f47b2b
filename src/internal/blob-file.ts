import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, stat, truncate, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GantryError } from '../errors/index.js';
import { abortError, throwIfAborted } from './abort.js';
import { syncDirectory } from './atomic-file.js';
import { digestMismatchError, isIntegrityError, sizeMismatchError, type IncrementalHash } from './content-check.js';
import { withFileLock } from './file-lock.js';
import { createVerifiedFileWriter } from './verified-file-writer.js';
import { makeDirs } from './make-dirs.js';

export {
  createContentCheck,
  digestMismatchError,
  isIntegrityError,
  sizeMismatchError,
  type ContentCheckOptions,
  type IncrementalHash,
} from './content-check.js';

/**
 * Content-addressed files on disk: stage, verify, then publish by rename, so
 * that a file at its final (digest-named) path is always complete and
 * verified. Used by every local transport (OCI layouts, archives' staging
 * directories, gantry's store).
 */

/** Size of the file at `path`, or undefined when there is none. */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Bytes staged in `partialPath` that a resumed write can continue from: the
 * file's size, or 0 when there is none or it is longer than the content can
 * be (left by something else; the next write starts over).
 */
export async function stagedLength(partialPath: string, expectedSize: number): Promise<number> {
  const size = await fileSize(partialPath);
  return size !== undefined && size <= expectedSize ? size : 0;
}

export interface WriteStagedFileOptions {
  /** Where bytes are staged; kept after an interruption so a later write resumes from its size. */
  partialPath: string;
  /** Where the verified file is published (renamed to). */
  finalPath: string;
  digest: string;
  size: number;
  /** A fresh hash for `digest`'s algorithm. */
  newHash: () => IncrementalHash;
  /** The content from byte `from` on. */
  body: Readable;
  /** Bytes of the content already staged in `partialPath` (what `stagedLength` reported), else 0. */
  from: number;
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
  /** Mode of the published file (default 0644, as skopeo writes layout blobs). */
  mode?: number;
}

/**
 * Content up to this size is written without being staged for a resume:
 * into a temporary file of its own (`partialPath.<random>.tmp`), with no
 * lock, then verified and renamed into place like the rest. Resuming a few
 * hundred KiB saves nothing, while the lock and the staging cost a dozen
 * file-system round trips per blob, which a pull of hundreds of small layers
 * paid hundreds of times. Concurrent writers of the same content each write
 * their own file; the renames are atomic and publish identical bytes.
 */
export const UNSTAGED_MAX_BYTES = 1024 * 1024;

// A writer of the same blob in another process holds the staging lock for as
// long as its copy of the bytes takes; wait for it rather than fail.
const STAGING_LOCK_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * Write content to `finalPath` through `partialPath`: the staged prefix
 * (`from` bytes, re-read and hashed first) plus `body`, verified as a whole
 * against `size` and `digest`, fsynced, then renamed into place.
 *
 * Guarantees: nothing appears at `finalPath` unless it is complete and
 * verified. One writer per `partialPath` at a time, across processes (a lock
 * file next to it); when another writer published the file meanwhile, `body`
 * is discarded and the call succeeds. On SIZE_MISMATCH or DIGEST_MISMATCH the
 * staged file is deleted; on any other failure (the body errored, the signal
 * aborted) it is kept, so the next write resumes from its size. Content of
 * at most UNSTAGED_MAX_BYTES written from the start is the exception: it
 * goes through a temporary file of its own, without a lock, and is not kept
 * for a resume.
 *
 * Throws SIZE_MISMATCH / DIGEST_MISMATCH, INTERRUPTED (or the signal's
 * GantryError reason) on abort, INTERNAL when the staged prefix is shorter
 * than `from` (it changed since it was measured: retry), the body's error, or
 * the `fs` error.
 */
export async function writeStagedFile(options: WriteStagedFileOptions): Promise<void> {
  throwIfAborted(options.signal);
  await ensureDirectory(dirname(options.partialPath));
  await ensureDirectory(dirname(options.finalPath));
  try {
    if (options.size <= UNSTAGED_MAX_BYTES && options.from === 0) await writeUnstaged(options);
    else {
      await withFileLock(options.partialPath, () => stageAndPublish(options), {
        timeoutMs: STAGING_LOCK_TIMEOUT_MS,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    }
  } catch (err) {
    if (options.signal?.aborted && !(err instanceof GantryError)) throw abortError(options.signal);
    throw err;
  } finally {
    // Whatever happened, the caller's stream must not stay open (a socket, a file).
    if (!options.body.destroyed) options.body.destroy();
  }
}

async function writeUnstaged(options: WriteStagedFileOptions): Promise<void> {
  const temp = `${options.partialPath}.${randomBytes(6).toString('hex')}.tmp`;
  // Small content is taken whole and checked in memory before any file exists: no stream
  // writer, no pipeline, one write (a pull of 200 small layers did all that 200 times).
  const bytes = await readVerified(options);
  try {
    const handle = await open(temp, 'wx', options.mode ?? 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    throwIfAborted(options.signal);
    await rename(temp, options.finalPath);
  } catch (err) {
    // Nothing of a small write is worth keeping: whatever failed, the file goes.
    await unlinkIfPresent(temp);
    throw err;
  }
  await syncDirectoryCoalesced(dirname(options.finalPath));
}

/** The whole body, checked against size and digest as it comes (at most UNSTAGED_MAX_BYTES). */
async function readVerified(options: WriteStagedFileOptions): Promise<Buffer> {
  const hash = options.newHash();
  const chunks: Buffer[] = [];
  let seen = 0;
  // A body that stalls must still end on abort: destroying it ends the loop below.
  const { signal, body } = options;
  const onAbort = (): void => {
    body.destroy(abortError(signal as AbortSignal));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  // Aborted while the directories were made: the listener above will not fire again.
  if (signal?.aborted) onAbort();
  try {
    for await (const piece of body as AsyncIterable<Buffer | string>) {
      throwIfAborted(options.signal);
      const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
      seen += chunk.byteLength;
      if (seen > options.size) throw sizeMismatchError(options.digest, options.size, seen);
      hash.update(chunk);
      chunks.push(chunk);
      options.onProgress?.(seen);
    }
    throwIfAborted(options.signal);
    if (seen !== options.size) throw sizeMismatchError(options.digest, options.size, seen);
    const actual = await hash.digest();
    if (actual !== options.digest) throw digestMismatchError(options.digest, actual, seen);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    hash.dispose?.();
  }
  return Buffer.concat(chunks, seen);
}

/**
 * Stream `options.body` into `target.path` through the verified writer. On
 * failure the file is deleted unless `keepOnFailure` says otherwise, and an
 * abort is reported as the signal's reason.
 */
async function streamVerified(
  options: WriteStagedFileOptions,
  target: { path: string; hash: IncrementalHash; seen: number; keepOnFailure: (err: unknown) => boolean },
): Promise<void> {
  const out = createVerifiedFileWriter({
    path: target.path,
    mode: options.mode ?? 0o644,
    digest: options.digest,
    size: options.size,
    hash: target.hash,
    seen: target.seen,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  try {
    await pipeline(options.body, out, options.signal ? { signal: options.signal } : {});
  } catch (err) {
    await closedStream(out);
    if (!target.keepOnFailure(err)) await unlinkIfPresent(target.path);
    if (options.signal?.aborted) throw abortError(options.signal);
    throw err;
  }
}

async function stageAndPublish(options: WriteStagedFileOptions): Promise<void> {
  const { partialPath, finalPath, from } = options;
  if ((await fileSize(finalPath)) === options.size) return;

  const hash = options.newHash();
  try {
    if (from > 0) {
      const staged = await fileSize(partialPath);
      if (staged === undefined || staged < from) {
        throw new GantryError('INTERNAL', `the staged part of ${options.digest} changed while resuming`, {
          hint: 'Retry: the copy will start this blob over.',
          details: { digest: options.digest, staged: staged ?? 0, from },
        });
      }
      if (staged > from) await truncate(partialPath, from);
      await hashPrefix(partialPath, from, hash, options.signal);
    }

    // An interrupted write stays staged for a resume; bytes that failed the size or digest check do not.
    await streamVerified(options, { path: partialPath, hash, seen: from, keepOnFailure: (err) => !isIntegrityError(err) });
  } finally {
    // A hash that ended with a result ignores this; one left mid-way frees its worker state.
    hash.dispose?.();
  }
  await rename(partialPath, finalPath);
  await syncDirectoryCoalesced(dirname(finalPath));
}

/**
 * Directories this process already made: a pull writes hundreds of blobs into
 * the same two, and each recursive mkdir is a thread-pool round trip.
 */
const madeDirectories = new Set<string>();

async function ensureDirectory(dir: string): Promise<void> {
  if (madeDirectories.has(dir)) return;
  await makeDirs(dir);
  madeDirectories.add(dir);
}

/**
 * Group commit for directory fsyncs: renames that land while a sync of the
 * same directory runs share the one sync that starts after it, so N blobs
 * in flight cost a handful of fsyncs rather than N, and each rename is still
 * durable before its write resolves.
 */
const directorySyncs = new Map<string, { running: Promise<void>; next: Promise<void> | undefined }>();

function syncDirectoryCoalesced(dir: string): Promise<void> {
  const state = directorySyncs.get(dir);
  if (!state) {
    const running = syncDirectory(dir).finally(() => {
      const current = directorySyncs.get(dir);
      if (current?.running === running && current.next === undefined) directorySyncs.delete(dir);
    });
    directorySyncs.set(dir, { running, next: undefined });
    return running;
  }
  if (!state.next) {
    const next = state.running
      .catch(() => undefined)
      .then(() => {
        // This sync covers every rename that arrived while the previous one ran.
        const running = syncDirectory(dir);
        directorySyncs.set(dir, { running, next: undefined });
        return running.finally(() => {
          if (directorySyncs.get(dir)?.running === running) directorySyncs.delete(dir);
        });
      });
    state.next = next;
  }
  return state.next;
}

async function hashPrefix(path: string, length: number, hash: IncrementalHash, signal: AbortSignal | undefined): Promise<void> {
  if (hash.updateFromFile) {
    hash.updateFromFile(path, 0, length);
    return;
  }
  const stream = createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1024 * 1024, ...(signal ? { signal } : {}) });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    await hash.ready?.();
  }
}

/**
 * Wait until a failed write stream has closed: a write in flight (or the
 * open itself) finishes first, so nothing lands in the file after this
 * resolves. Only 'close' is awaited; the stream's 'error' is the caller's.
 */
export async function closedStream(stream: { closed: boolean; once(event: 'close', listener: () => void): unknown }): Promise<void> {
  if (!stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()));
}

/**
 * Publish `tempPath` as `finalPath`: fsync the file, rename it, fsync the
 * directory (POSIX needs that for the rename itself to persist).
 */
export async function publishFile(tempPath: string, finalPath: string): Promise<void> {
  const handle = await open(tempPath, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await makeDirs(dirname(finalPath));
  await rename(tempPath, finalPath);
  await syncDirectory(dirname(finalPath));
}

/** Delete a file; one that is already gone is fine. */
export async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
}

/** The `code` of a node system error, or undefined. */
export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
