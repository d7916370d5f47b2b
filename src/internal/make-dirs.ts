import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * `mkdir -p`: creates `path` and any missing parents; resolves when `path`
 * is a directory. Not `mkdir(path, { recursive: true })`: node 20's
 * recursive mkdir loops for ever (at full CPU, deaf to Ctrl-C's abort) where
 * a parent exists yet a child cannot be made in it and the kernel answers
 * ENOENT, as in /proc or /sys: `gantry copy … oci:/proc/x` hung. Here each
 * level is tried once: after its parent exists, a directory that still
 * cannot be made fails with the system's error.
 *
 * @throws the mkdir error (ENOENT, EACCES, EROFS, ENOSPC, …); ENOTDIR when
 *   `path` or a parent exists and is not a directory.
 */
export async function makeDirs(path: string, mode?: number): Promise<void> {
  const options = mode === undefined ? {} : { mode };
  try {
    await mkdir(path, options);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return existingDirectory(path, err);
    if (code !== 'ENOENT') throw err;
    const parent = dirname(path);
    if (parent === path) throw err;
    await makeDirs(parent, mode);
  }
  try {
    await mkdir(path, options);
  } catch (err) {
    // Another process may have made it meanwhile.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return existingDirectory(path, err);
    throw err;
  }
}

async function existingDirectory(path: string, cause: unknown): Promise<void> {
  if ((await stat(path)).isDirectory()) return;
  const err: NodeJS.ErrnoException = new Error(`ENOTDIR: not a directory, mkdir '${path}'`, { cause });
  Object.assign(err, { code: 'ENOTDIR', syscall: 'mkdir', path });
  throw err;
}
