import { randomBytes } from 'node:crypto';
import { open, readlink, realpath, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { errorCode } from './error-code.js';
import { makeDirs } from './make-dirs.js';

export interface WriteFileAtomicOptions {
  /** Permission bits of the written file, applied exactly (not filtered by the umask). Default 0600. */
  mode?: number;
  /**
   * fsync the file and its directory (default true). False for a cache whose
   * loss on a crash costs nothing: readers still never see a torn file.
   */
  durable?: boolean;
}

/**
 * Replace the file at `path` with `data` so that a concurrent reader sees
 * either the old content or the new one, never a torn or empty file: the data
 * goes to a temp file in the same directory, is fsynced and chmodded, then
 * renamed over the target (rename is atomic within one filesystem).
 *
 * Guarantees: the parent directory is created (0700) when missing; the final
 * file has exactly `mode` (default 0600, what docker uses for config.json);
 * when `path` is a symlink the link's target is replaced and the link kept,
 * as docker does for a config.json managed by a dotfiles repository; on
 * failure the temp file is removed. Throws the underlying `fs` error.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteFileAtomicOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  const target = await resolveTarget(path);
  const dir = dirname(target);
  await makeDirs(dir, 0o700);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(data);
      // open()'s mode is filtered by the umask; chmod sets it exactly.
      await handle.chmod(mode);
      if (options.durable !== false) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await removeTemp(temp, err);
    throw err;
  }
  if (options.durable !== false) await syncDirectory(dir);
}

/** Follow symlinks (including a dangling one) so the rename replaces the real file, not the link. */
async function resolveTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
  try {
    const link = await readlink(path);
    return resolve(dirname(path), link);
  } catch (err) {
    // ENOENT: nothing there yet; EINVAL: a regular path that is not a link.
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'EINVAL') return path;
    throw err;
  }
}

async function removeTemp(temp: string, original: unknown): Promise<void> {
  try {
    await unlink(temp);
  } catch (err) {
    // ENOENT: the temp file was never created, or was already renamed.
    if (errorCode(err) !== 'ENOENT') throw new AggregateError([original, err], `cannot remove temp file ${temp}`);
  }
}

/**
 * Persist a rename itself (POSIX needs an fsync of the directory for that).
 * Filesystems that refuse fsync on a directory (network mounts, some FUSE)
 * are tolerated: the data file itself is synced.
 */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    if (!['EINVAL', 'ENOTSUP', 'EPERM', 'EISDIR', 'EBADF'].includes(errorCode(err) ?? '')) throw err;
  } finally {
    await handle.close();
  }
}
