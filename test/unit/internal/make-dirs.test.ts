import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDirs } from '../../../src/internal/make-dirs.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('make-dirs');
});
afterAll(async () => {
  await removeTempDir(dir);
});

describe('makeDirs', () => {
  it('creates every missing level, and is quiet when the directory exists', async () => {
    const deep = join(dir, 'a', 'b', 'c');
    await makeDirs(deep);
    expect((await stat(deep)).isDirectory()).toBe(true);
    await makeDirs(deep);
    await makeDirs(dir);
  });

  it('applies the mode to the levels it creates', async () => {
    const deep = join(dir, 'private', 'inner');
    await makeDirs(deep, 0o700);
    expect((await stat(deep)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'private'))).mode & 0o777).toBe(0o700);
  });

  it('fails with ENOTDIR when a level is a file', async () => {
    await writeFile(join(dir, 'file'), 'x');
    await expect(makeDirs(join(dir, 'file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(makeDirs(join(dir, 'file', 'below'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('lets two callers make the same directories at once', async () => {
    const deep = join(dir, 'race', 'x', 'y');
    await Promise.all([makeDirs(deep), makeDirs(deep), mkdir(join(dir, 'race'), { recursive: true })]);
    expect((await stat(deep)).isDirectory()).toBe(true);
  });

  // node 20's own recursive mkdir never returns here (it loops at full CPU).
  it.runIf(process.platform === 'linux')('fails, rather than loops, where the kernel cannot make a directory under an existing one (/proc)', async () => {
    await expect(makeDirs('/proc/gantry-make-dirs-test/inner')).rejects.toMatchObject({ code: expect.stringMatching(/^E[A-Z]+$/) });
  });
});
