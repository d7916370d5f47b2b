import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest } from '../../digest/index.js';
import { errorCode, fileSize, unlinkIfPresent } from '../../internal/blob-file.js';
import type { Descriptor } from '../../media/types.js';
import { entryRoot, readLayoutIndex, withLayoutLock } from '../oci-layout/layout-index.js';
import { PARTIAL_DIR, blobPath } from '../oci-layout/layout-paths.js';
import { reachableBlobs } from '../oci-layout/reachable.js';
import { storeDir, type PathEnv } from './paths.js';
import { countLivePins } from './pins.js';

/** What a garbage collection of the store did. */
export interface GarbageReport {
  /** Blobs deleted: nothing named in index.json reached them. */
  deletedBlobs: number;
  freedBytes: number;
  /** Staged (partial) blobs deleted: left by interrupted copies more than a day ago. */
  staleStaged: number;
  /** True when other copies were in flight, so nothing was deleted (see pins.ts); a later collection will. */
  deferred: boolean;
}

// Staged bytes of an interrupted copy are kept for a rerun to resume from;
// after a day nobody is coming back for them.
const STALE_STAGED_MS = 24 * 60 * 60 * 1000;

/**
 * Delete the store's blobs that no index.json entry reaches (walking every
 * root through its indexes and manifests), unless a copy is in flight.
 * Staged blobs (`.partial/`) are resumable state: only those untouched for a
 * day go. The caller holds the store lock.
 */
export async function collectGarbageLocked(env: PathEnv): Promise<GarbageReport> {
  const dir = storeDir(env);
  if ((await countLivePins(env)) > 0) return { deletedBlobs: 0, freedBytes: 0, staleStaged: 0, deferred: true };
  const entries = (await readLayoutIndex(dir)).manifests;
  const { blobs } = await reachableBlobs(dir, entries.map((e: Descriptor) => entryRoot(e)));
  const report: GarbageReport = { deletedBlobs: 0, freedBytes: 0, staleStaged: 0, deferred: false };
  for (const digest of await storedDigests(dir)) {
    if (blobs.has(digest)) continue;
    const path = blobPath(dir, digest);
    const size = await fileSize(path);
    if (size === undefined) continue;
    await unlinkIfPresent(path);
    report.deletedBlobs++;
    report.freedBytes += size;
  }
  for (const path of await staleStagedFiles(dir)) {
    report.freedBytes += (await fileSize(path)) ?? 0;
    await unlinkIfPresent(path);
    report.staleStaged++;
  }
  return report;
}

async function staleStagedFiles(dir: string): Promise<string[]> {
  const root = join(dir, 'blobs');
  const stale: string[] = [];
  for (const algorithm of await listDir(root)) {
    const partials = join(root, algorithm, PARTIAL_DIR);
    for (const name of await listDir(partials)) {
      const path = join(partials, name);
      const info = await stat(path).catch((err: unknown) => (errorCode(err) === 'ENOENT' ? undefined : Promise.reject(err)));
      if (info?.isFile() && Date.now() - info.mtimeMs > STALE_STAGED_MS) stale.push(path);
    }
  }
  return stale;
}

/**
 * Collect the store's garbage under its lock (see `collectGarbageLocked`).
 * A store that does not exist has none.
 *
 * @throws GantryError for a damaged store; FileLockTimeoutError when the lock stays held; fs errors.
 */
export async function collectGarbage(env: PathEnv, options: { signal?: AbortSignal } = {}): Promise<GarbageReport> {
  const dir = storeDir(env);
  if ((await fileSize(join(dir, 'index.json'))) === undefined) return { deletedBlobs: 0, freedBytes: 0, staleStaged: 0, deferred: false };
  return withLayoutLock(dir, () => collectGarbageLocked(env), options.signal);
}

/** Every blob file's digest (dot-named entries, the staging area among them, are not blobs). */
async function storedDigests(dir: string): Promise<string[]> {
  const root = join(dir, 'blobs');
  const digests: string[] = [];
  for (const algorithm of await listDir(root)) {
    if (algorithm.startsWith('.')) continue;
    for (const encoded of await listDir(join(root, algorithm))) {
      const digest = `${algorithm}:${encoded}`;
      if (!encoded.startsWith('.') && isDigest(digest)) digests.push(digest);
    }
  }
  return digests;
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}
