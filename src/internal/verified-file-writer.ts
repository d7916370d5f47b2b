import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { digestMismatchError, isIntegrityError, sizeMismatchError, type ContentCheckOptions } from './content-check.js';

/**
 * The sink of a blob download: checks, hashes, counts and writes each chunk
 * in one stream stage, and writes to the file in batches.
 *
 * Why one stage and batches: a pull is bound by the main thread, not by the
 * disk. Every chunk (64 KiB off a socket) that crosses a Transform costs a
 * few stream hops, and every fs write is a dispatch to the thread pool whose
 * wake-ups, on a 2-core machine, cost more than the copy into the page cache
 * (a profile of a 512 MiB pull showed 0.30 s of main-thread time in fs write
 * dispatch for 8192 writes). Batching the chunks into one writev per
 * `batchBytes` divides that by the batch's chunk count, at the cost of
 * holding one batch per blob in memory.
 */

export interface VerifiedFileWriterOptions extends ContentCheckOptions {
  /** The staging file; opened `r+` at `seen` when `seen` > 0 (the staged prefix is kept), else created or truncated. */
  path: string;
  /** Mode of a created file. */
  mode: number;
  /** Called with the bytes received so far (the staged prefix included). */
  onProgress?: (bytes: number) => void;
  /** Write once this many bytes are pending (default 1 MiB). */
  batchBytes?: number;
}

const DEFAULT_BATCH_BYTES = 1024 * 1024;
/**
 * A batch that has waited this long for more bytes is written anyway: when a
 * download stalls, what arrived is on disk (to resume from) within this time,
 * not only when the batch fills.
 */
const IDLE_FLUSH_MS = 100;

/**
 * A Writable that fails with SIZE_MISMATCH as soon as the total passes
 * `size` (the excess chunk is not written) and, at the end, with
 * SIZE_MISMATCH when short or DIGEST_MISMATCH when the hash differs (the
 * size first, as image-spec's descriptor verification asks). On success the
 * file holds every byte and is fsynced before 'finish'. On failure the file
 * keeps the bytes received before it (a prefix to resume from) unless the
 * failure was the size or digest check; deleting it is the caller's choice. 'close'
 * comes only after the file is closed, so nothing lands in it afterwards.
 */
export function createVerifiedFileWriter(options: VerifiedFileWriterOptions): Writable {
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  let seen = options.seen ?? 0;
  let position = seen;
  let handle: FileHandle | undefined;
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  // Writes run one after another, so the file is always a prefix of the
  // content; each takes its batch when it is asked for, so the next batch
  // fills while one is written.
  let flushing: Promise<void> = Promise.resolve();
  // A hash that can read the file hashes each batch once it is written, off this thread and without a copy.
  const fromFile = options.hash.updateFromFile?.bind(options.hash);
  const flushPending = (): Promise<void> => {
    if (pendingBytes === 0) return flushing;
    const buffers = pending;
    const length = pendingBytes;
    pending = [];
    pendingBytes = 0;
    flushing = flushing.then(async () => {
      if (handle === undefined) return;
      const start = position;
      let written = 0;
      // writev may write less than asked: continue from where it stopped.
      while (written < length) {
        const { bytesWritten } = await handle.writev(remainder(buffers, written), position);
        if (bytesWritten === 0) throw new Error(`short write to ${options.path}`);
        written += bytesWritten;
        position += bytesWritten;
      }
      fromFile?.(options.path, start, position);
    });
    return flushing;
  };

  const accept = (chunk: Buffer): Error | undefined => {
    if (seen + chunk.byteLength > options.size) return sizeMismatchError(options.digest, options.size, seen + chunk.byteLength);
    seen += chunk.byteLength;
    if (!fromFile) options.hash.update(chunk);
    pending.push(chunk);
    pendingBytes += chunk.byteLength;
    options.onProgress?.(seen);
    return undefined;
  };

  let idleTimer: NodeJS.Timeout | undefined;
  const flushWhenIdle = (): void => {
    if (pendingBytes === 0) return;
    if (idleTimer) idleTimer.refresh();
    else {
      idleTimer = setTimeout(() => void flushPending().catch(() => undefined), IDLE_FLUSH_MS);
      // A pending flush alone must not keep the process alive.
      idleTimer.unref();
    }
  };

  const afterAccept = (callback: (error?: Error | null) => void): void => {
    // An off-thread hash that fell behind holds the stream here, so memory stays bounded.
    const hashing = options.hash.ready?.();
    let writing: Promise<void> | undefined;
    if (pendingBytes >= batchBytes) {
      // Keep taking chunks while this batch is written, but no further than
      // one batch ahead: wait for the write before it.
      const previous = flushing;
      void flushPending().catch(() => undefined);
      writing = previous;
    } else flushWhenIdle();
    if (writing === undefined && hashing === undefined) {
      callback();
      return;
    }
    Promise.all([writing, hashing]).then(() => callback(), callback);
  };

  return new Writable({
    // Chunks are held in our batch, not in the stream's buffer.
    highWaterMark: batchBytes,
    construct(callback) {
      open(options.path, position > 0 ? 'r+' : 'w', options.mode).then((h) => {
        handle = h;
        callback();
      }, callback);
    },
    write(chunk: Buffer, _encoding, callback) {
      const error = accept(chunk);
      if (error) {
        callback(error);
        return;
      }
      afterAccept(callback);
    },
    writev(chunks, callback) {
      for (const { chunk } of chunks) {
        const error = accept(chunk as Buffer);
        if (error) {
          callback(error);
          return;
        }
      }
      afterAccept(callback);
    },
    final(callback) {
      clearTimeout(idleTimer);
      if (seen !== options.size) {
        callback(sizeMismatchError(options.digest, options.size, seen));
        return;
      }
      flushPending()
        .then(() => options.hash.digest())
        .then(async (actual) => {
          if (actual !== options.digest) throw digestMismatchError(options.digest, actual, seen);
          await handle?.sync();
        })
        .then(() => callback(), callback);
    },
    destroy(error, callback) {
      clearTimeout(idleTimer);
      // Bytes received before a failure are a valid prefix to resume from (the
      // digest is checked over the whole blob at the end of the next attempt);
      // bytes that broke the size or digest check are not kept by anyone.
      const keep = !isIntegrityError(error);
      const saved = keep ? flushPending().catch(() => undefined) : flushing.catch(() => undefined);
      pending = keep ? pending : [];
      pendingBytes = keep ? pendingBytes : 0;
      void saved.then(async () => {
        const h = handle;
        handle = undefined;
        if (h === undefined) return callback(error);
        try {
          await h.close();
        } catch (closeError) {
          return callback(error ?? (closeError as Error));
        }
        callback(error);
      });
    },
  });
}

/** The buffers from byte `offset` of their concatenation on. */
function remainder(buffers: Buffer[], offset: number): Buffer[] {
  if (offset === 0) return buffers;
  const out: Buffer[] = [];
  let skip = offset;
  for (const b of buffers) {
    if (skip >= b.byteLength) {
      skip -= b.byteLength;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}
