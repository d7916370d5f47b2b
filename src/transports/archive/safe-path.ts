import { posix } from 'node:path';
import { GantryError } from '../../errors/index.js';

/*
 * Paths inside an archive, checked before anything touches the disk: an
 * entry must stay inside the directory it is extracted to (the "zip slip"
 * family: absolute names, `..` components, links pointing outside).
 */

function escapes(name: string, why: string): GantryError {
  return new GantryError('MANIFEST_INVALID', `archive entry ${JSON.stringify(name.slice(0, 200))} ${why}`, {
    hint: 'The archive is malformed or malicious; gantry refuses entries that would land outside the archive.',
    details: { entry: name.slice(0, 1000) },
  });
}

/**
 * The entry's path relative to the archive root, normalized (`./a//b/` →
 * `a/b`); '' for the root itself.
 *
 * @throws GantryError MANIFEST_INVALID for an absolute name, a `..`
 *   component anywhere, or a NUL byte.
 */
export function entryPath(name: string): string {
  if (name.includes('\0')) throw escapes(name, 'contains a NUL byte');
  if (name.startsWith('/')) throw escapes(name, 'is an absolute path');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw escapes(name, "has a '..' component");
  return parts.join('/');
}

/**
 * Where a link entry points, relative to the archive root: a symlink's target
 * is relative to the link's directory, a hard link's to the archive root
 * (tar's conventions). `..` may move up within the archive but not past it.
 *
 * @throws GantryError MANIFEST_INVALID for an absolute target or one that leaves the archive.
 */
export function linkTarget(linkPath: string, target: string, kind: 'symlink' | 'link'): string {
  if (target.includes('\0')) throw escapes(linkPath, 'links to a name with a NUL byte');
  if (target.startsWith('/')) throw escapes(linkPath, `links outside the archive (${JSON.stringify(target.slice(0, 200))})`);
  const base = kind === 'symlink' ? posix.dirname(linkPath) : '';
  const stack: string[] = base === '.' || base === '' ? [] : base.split('/');
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length === 0) throw escapes(linkPath, `links outside the archive (${JSON.stringify(target.slice(0, 200))})`);
      stack.pop();
    } else {
      stack.push(part);
    }
  }
  return stack.join('/');
}
