import { createHash, randomBytes } from 'node:crypto';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openArchive, type ArchiveContents } from '../../../../src/transports/archive/open-archive.js';
import { makeTempDir, removeTempDir } from '../../../helpers/tmp.js';
import { writeRawTar } from './tar-fixtures.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('open-archive');
});
afterEach(async () => {
  await removeTempDir(dir);
});

async function content(archive: ArchiveContents, path: string, from = 0): Promise<Buffer> {
  const file = archive.files.get(path);
  if (!file) throw new Error(`no ${path}`);
  const chunks: Buffer[] = [];
  for await (const chunk of archive.read(file, { from })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('openArchive', () => {
  it('indexes a plain tar in place, long (pax) names included, with digests on request', async () => {
    const big = randomBytes(300_000);
    const long = `blobs/${'d'.repeat(120)}/${'f'.repeat(120)}`;
    await writeRawTar(join(dir, 'a.tar'), [
      { name: 'dir', type: 'directory' },
      { name: 'dir/small', content: 'hello' },
      { name: long, content: big },
      { name: 'empty', content: Buffer.alloc(0) },
    ]);
    const archive = await openArchive({ file: join(dir, 'a.tar'), hash: true });
    expect([...archive.files.keys()].sort()).toEqual([long, 'dir/small', 'empty'].sort());
    expect((await content(archive, long)).equals(big)).toBe(true);
    expect((await content(archive, long, 299_990)).equals(big.subarray(299_990))).toBe(true);
    expect((await content(archive, 'dir/small')).toString()).toBe('hello');
    expect(await content(archive, 'empty')).toHaveLength(0);
    expect(archive.files.get(long)?.digest).toBe(`sha256:${createHash('sha256').update(big).digest('hex')}`);
    expect(archive.files.get(long)?.location.file).toBe(join(dir, 'a.tar'));
    await archive.close();
  });

  it('extracts a gzip\'d tar to a temp dir and removes it on close', async () => {
    const tempDir = join(dir, 'tmp');
    await import('node:fs/promises').then((fs) => fs.mkdir(tempDir));
    await writeRawTar(join(dir, 'a.tar.gz'), [{ name: 'x/y', content: 'gz content' }], { gzip: true });
    const archive = await openArchive({ file: join(dir, 'a.tar.gz'), tempDir });
    expect((await content(archive, 'x/y')).toString()).toBe('gz content');
    expect(await readdir(tempDir)).toHaveLength(1);
    await archive.close();
    expect(await readdir(tempDir)).toHaveLength(0);
  });

  it('resolves symlinks and hard links inside the archive to the file they name', async () => {
    await writeRawTar(join(dir, 'links.tar'), [
      { name: 'layer-id/layer.tar', type: 'symlink', linkname: '../abc.tar' },
      { name: 'abc.tar', content: 'layer bytes' },
      { name: 'hard', type: 'link', linkname: 'abc.tar' },
      { name: 'chain', type: 'symlink', linkname: 'layer-id/layer.tar' },
      { name: 'dangling', type: 'symlink', linkname: 'nowhere' },
    ]);
    const archive = await openArchive({ file: join(dir, 'links.tar') });
    for (const name of ['layer-id/layer.tar', 'hard', 'chain']) expect((await content(archive, name)).toString()).toBe('layer bytes');
    expect(archive.files.has('dangling')).toBe(false);
  });

  it.each([
    ['a parent-directory name', [{ name: '../escape', content: 'x' }]],
    ['an absolute name', [{ name: '/tmp/escape', content: 'x' }]],
    ['a symlink out of the archive', [{ name: 'evil', type: 'symlink' as const, linkname: '../../etc/passwd' }]],
    ['an absolute symlink', [{ name: 'evil', type: 'symlink' as const, linkname: '/etc/passwd' }]],
    ['a hard link out of the archive', [{ name: 'evil', type: 'link' as const, linkname: '../outside' }]],
    ['a device', [{ name: 'dev', type: 'character-device' as const }]],
  ])('refuses %s, writing nothing outside', async (_what, entries) => {
    await writeRawTar(join(dir, 'evil.tar'), entries);
    await expect(openArchive({ file: join(dir, 'evil.tar') })).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
    expect((await readdir(dir)).sort()).toEqual(['evil.tar']);
  });

  it('refuses escaping entries in a gzip\'d archive before extracting them', async () => {
    const inner = join(dir, 'inner');
    await import('node:fs/promises').then((fs) => fs.mkdir(inner));
    await writeRawTar(join(dir, 'evil.tgz'), [{ name: 'ok', content: 'fine' }, { name: '../../escaped', content: 'x' }], { gzip: true });
    await expect(openArchive({ file: join(dir, 'evil.tgz'), tempDir: inner })).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
    expect(await readdir(inner)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['evil.tgz', 'inner']);
  });

  it('a truncated or foreign file is MANIFEST_INVALID; a missing one NOT_FOUND', async () => {
    await writeRawTar(join(dir, 'full.tar'), [{ name: 'f', content: randomBytes(10_000) }]);
    const full = await import('node:fs/promises').then((fs) => fs.readFile(join(dir, 'full.tar')));
    await writeFile(join(dir, 'cut.tar'), full.subarray(0, 3000));
    await expect(openArchive({ file: join(dir, 'cut.tar') })).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
    await writeFile(join(dir, 'text.tar'), 'this is not a tar archive at all, just some text that is long enough '.repeat(20));
    await expect(openArchive({ file: join(dir, 'text.tar') })).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
    await expect(openArchive({ file: join(dir, 'missing.tar') })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await stat(join(dir, 'full.tar'))).size).toBeGreaterThan(10_000);
  });
});
