import { GantryError } from '../errors/index.js';

const HINTS: Record<string, string> = {
  EACCES: 'gantry may not use that path: check its permissions, or choose a location you own.',
  EPERM: 'gantry may not use that path: check its permissions, or choose a location you own.',
  EROFS: 'That file system is read-only: choose a location on a writable one.',
  ENOSPC: 'The disk is full: free some space, then run the command again (it resumes).',
  EDQUOT: 'The disk quota is used up: free some space, then run the command again (it resumes).',
  ENOTDIR: 'A part of the path is a file where a directory belongs: check the location.',
  EISDIR: 'The path names a directory where a file belongs: check the location.',
  ENOENT: 'A directory on the path is missing, or cannot hold new entries (as in /proc or /sys): check the location.',
  EMFILE: 'Too many files are open: raise the limit (ulimit -n) or lower --concurrency.',
};

/**
 * A file-system error from node (it carries `code`, `syscall` and `path`)
 * as GantryError FILE_ERROR with node's own message (`EACCES: permission
 * denied, open '/x'`) and a hint for the code; undefined for anything else.
 * Such errors come from the user's paths and machine, not from a bug, and
 * are reported as such instead of as an internal error.
 */
export function asFileError(err: unknown): GantryError | undefined {
  if (!(err instanceof Error)) return undefined;
  const { code, syscall, path } = err as NodeJS.ErrnoException;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code) || typeof syscall !== 'string' || typeof path !== 'string') return undefined;
  return new GantryError('FILE_ERROR', err.message, {
    hint: HINTS[code] ?? 'Check the path and the file system, then run the command again.',
    cause: err,
    details: { errno: code, syscall, path },
  });
}
