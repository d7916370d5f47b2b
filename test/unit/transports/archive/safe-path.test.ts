import { describe, expect, it } from 'vitest';
import { entryPath, linkTarget } from '../../../../src/transports/archive/safe-path.js';

describe('entryPath', () => {
  it.each([
    ['blobs/sha256/abc', 'blobs/sha256/abc'],
    ['./index.json', 'index.json'],
    ['a//b/./c/', 'a/b/c'],
    ['./', ''],
  ])('normalizes %s to %s', (name, expected) => {
    expect(entryPath(name)).toBe(expected);
  });

  it.each(['/etc/passwd', '../evil', 'blobs/../../evil', 'a/..', 'a\0b'])('refuses %s', (name) => {
    expect(() => entryPath(name)).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
  });
});

describe('linkTarget', () => {
  it('resolves a symlink relative to its directory, within the archive', () => {
    expect(linkTarget('abc/layer.tar', '../def.tar', 'symlink')).toBe('def.tar');
    expect(linkTarget('a/b/c', '../../x/./y', 'symlink')).toBe('x/y');
  });

  it('resolves a hard link relative to the archive root', () => {
    expect(linkTarget('a/b/c', 'blobs/sha256/x', 'link')).toBe('blobs/sha256/x');
  });

  it.each([
    ['layer.tar', '../outside', 'symlink'],
    ['a/b', '../../outside', 'symlink'],
    ['a', '/etc/passwd', 'symlink'],
    ['a/b', '../x', 'link'],
  ] as const)('refuses %s -> %s (%s) that leaves the archive', (path, target, kind) => {
    expect(() => linkTarget(path, target, kind)).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
  });
});
