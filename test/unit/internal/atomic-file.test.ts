import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/internal/atomic-file.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-atomic-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('writeFileAtomic', () => {
  it('writes the data with mode 0600 by default, whatever the umask', async () => {
    const previous = process.umask(0o000);
    try {
      await writeFileAtomic(join(dir, 'config.json'), '{"a":1}');
    } finally {
      process.umask(previous);
    }
    expect(await readFile(join(dir, 'config.json'), 'utf8')).toBe('{"a":1}');
    expect(await modeOf(join(dir, 'config.json'))).toBe(0o600);
  });

  it('applies the requested mode exactly, even bits the umask would drop', async () => {
    const previous = process.umask(0o077);
    try {
      await writeFileAtomic(join(dir, 'shared'), 'x', { mode: 0o644 });
    } finally {
      process.umask(previous);
    }
    expect(await modeOf(join(dir, 'shared'))).toBe(0o644);
  });

  it('tightens an existing file to 0600 when replacing it', async () => {
    const target = join(dir, 'config.json');
    await writeFile(target, 'old');
    await chmod(target, 0o644);

    await writeFileAtomic(target, 'new');

    expect(await readFile(target, 'utf8')).toBe('new');
    expect(await modeOf(target)).toBe(0o600);
  });

  it('creates missing parent directories with mode 0700', async () => {
    const target = join(dir, 'home', '.docker', 'config.json');
    await writeFileAtomic(target, Buffer.from('{}'));
    expect(await readFile(target, 'utf8')).toBe('{}');
    expect(await modeOf(join(dir, 'home', '.docker'))).toBe(0o700);
  });

  it('leaves no temp file behind after a successful write', async () => {
    await writeFileAtomic(join(dir, 'config.json'), 'a');
    await writeFileAtomic(join(dir, 'config.json'), 'b');
    expect(await readdir(dir)).toEqual(['config.json']);
  });

  it('replaces the target of a symlink and keeps the link', async () => {
    await mkdir(join(dir, 'dotfiles'));
    await writeFile(join(dir, 'dotfiles', 'docker.json'), 'old');
    await symlink(join(dir, 'dotfiles', 'docker.json'), join(dir, 'config.json'));

    await writeFileAtomic(join(dir, 'config.json'), 'new');

    expect(await readlink(join(dir, 'config.json'))).toBe(join(dir, 'dotfiles', 'docker.json'));
    expect(await readFile(join(dir, 'dotfiles', 'docker.json'), 'utf8')).toBe('new');
  });

  it('creates the target of a dangling symlink', async () => {
    await symlink('real.json', join(dir, 'config.json'));
    await writeFileAtomic(join(dir, 'config.json'), 'new');
    expect(await readFile(join(dir, 'real.json'), 'utf8')).toBe('new');
    expect(await readlink(join(dir, 'config.json'))).toBe('real.json');
  });

  it('removes its temp file and keeps the old content when the rename fails', async () => {
    // A non-empty directory at the target path makes rename fail after the temp file is written.
    await mkdir(join(dir, 'config.json'));
    await writeFile(join(dir, 'config.json', 'keep'), 'x');

    await expect(writeFileAtomic(join(dir, 'config.json'), 'new')).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) });

    expect(await readdir(dir)).toEqual(['config.json']);
    expect(await readFile(join(dir, 'config.json', 'keep'), 'utf8')).toBe('x');
  });

  it('never lets a concurrent reader see a torn or empty file', async () => {
    const target = join(dir, 'config.json');
    const versions = ['a', 'b'].map((c) => c.repeat(256 * 1024));
    await writeFileAtomic(target, versions[0] ?? '');
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 40; i++) await writeFileAtomic(target, versions[i % 2] ?? '');
      writing = false;
    })();
    let reads = 0;
    for (; writing && reads < 10_000; reads++) {
      // A plain fs.writeFile (truncate, then write) fails this within a few reads.
      expect(versions).toContain(await readFile(target, 'utf8'));
    }
    await writer;
    expect(reads).toBeGreaterThan(1);
  });
});
