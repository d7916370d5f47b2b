import { createReadStream, createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as createPack, type Pack } from 'tar-stream';
import { abortError, throwIfAborted } from '../../internal/abort.js';
import { syncDirectory } from '../../internal/atomic-file.js';
import { fileSize, unlinkIfPresent } from '../../internal/blob-file.js';

/** One entry of an archive being written. */
export type ArchiveEntry =
  | { type: 'directory'; name: string }
  | { type: 'file'; name: string; content: Uint8Array }
  /** A file copied from `source`; `size`, when given, must be its length (checked). */
  | { type: 'file'; name: string; source: string; size?: number }
  | { type: 'symlink'; name: string; target: string };

// Fixed metadata so the same content always makes the same archive
// (skopeo's docker-archive writer also stamps the Unix epoch).
const MTIME = new Date(0);

/**
 * The directory where an archive target stages its content before the tar
 * is written: next to the archive (same filesystem, so resumable across runs
 * and not limited by a small /tmp), hidden, named after it.
 */
export function stagingDirFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.gantry-staging`);
}

/**
 * Options for the lock that serializes writers of one archive file: another
 * process may take as long as writing a multi-gigabyte tar, so wait for it.
 */
export function archiveLockOptions(signal: AbortSignal | undefined): { timeoutMs: number; signal?: AbortSignal } {
  return { timeoutMs: 60 * 60 * 1000, ...(signal ? { signal } : {}) };
}

/**
 * Write a tar archive (tar-stream) of `entries` to `file` atomically: the tar
 * is streamed to `FILE.partial` (file contents copied with backpressure,
 * never buffered whole), fsynced, then renamed over `file`. A reader sees
 * the old archive or the new one, never a part. On failure the partial file
 * is removed.
 *
 * Throws INTERRUPTED on abort, a plain Error when a source file is missing
 * or not `size` bytes long (the staging area changed under the writer), or
 * the fs error.
 */
export async function writeArchive(file: string, entries: Iterable<ArchiveEntry>, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  const partial = `${file}.partial`;
  const pack = createPack();
  const writing = pipeline(pack as unknown as Readable, createWriteStream(partial, { mode: 0o644, flush: true }), signal ? { signal } : {}).then(
    () => undefined,
    (err: unknown) => err,
  );
  try {
    for (const entry of entries) {
      throwIfAborted(signal);
      await addEntry(pack, entry, signal);
    }
    pack.finalize();
  } catch (err) {
    pack.destroy();
    await writing;
    await unlinkIfPresent(partial);
    throw signal?.aborted ? abortError(signal) : err;
  }
  const failure = await writing;
  if (failure !== undefined) {
    await unlinkIfPresent(partial);
    throw signal?.aborted ? abortError(signal) : failure;
  }
  await rename(partial, file);
  await syncDirectory(dirname(file));
}

async function addEntry(pack: Pack, entry: ArchiveEntry, signal: AbortSignal | undefined): Promise<void> {
  const common = { name: entry.name, mtime: MTIME, uid: 0, gid: 0 };
  switch (entry.type) {
    case 'directory':
      return added((done) => pack.entry({ ...common, name: `${entry.name}/`, type: 'directory', mode: 0o755 }, done));
    case 'symlink':
      return added((done) => pack.entry({ ...common, type: 'symlink', linkname: entry.target, mode: 0o777 }, done));
    case 'file':
      if ('content' in entry) return added((done) => pack.entry({ ...common, mode: 0o644, size: entry.content.byteLength }, entry.content, done));
      const size = await fileSize(entry.source);
      if (size === undefined || (entry.size !== undefined && size !== entry.size)) {
        throw new Error(`${entry.source} is missing or not ${String(entry.size)} bytes long`);
      }
      await pipeline(
        createReadStream(entry.source, { highWaterMark: 256 * 1024 }),
        pack.entry({ ...common, mode: 0o644, size }) as unknown as NodeJS.WritableStream,
        signal ? { signal } : {},
      );
  }
}

function added(start: (done: (err?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => start((err) => (err ? reject(err) : resolve())));
}
