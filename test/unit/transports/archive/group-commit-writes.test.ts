import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDockerArchiveTarget, createOciArchiveSource, createOciArchiveTarget } from '../../../../src/transports/archive/index.js';
import { openArchive } from '../../../../src/transports/archive/open-archive.js';
import { writeArchive } from '../../../../src/transports/archive/write-archive.js';
import { createOciLayoutSource } from '../../../../src/transports/oci-layout/index.js';
import type { ImageTarget } from '../../../../src/transports/types.js';
import { buildOciLayout } from '../../../helpers/oci-fixtures.js';
import { makeTempDir, removeTempDir } from '../../../helpers/tmp.js';
import { copyManifest } from '../helpers/copy-all.js';

// The first archive write waits for `release`, so the commits that follow it queue up meanwhile.
let release: () => void = () => undefined;
vi.mock('../../../../src/transports/archive/write-archive.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../../src/transports/archive/write-archive.js')>();
  let calls = 0;
  return {
    ...actual,
    writeArchive: vi.fn(async (...args: Parameters<typeof actual.writeArchive>) => {
      if (++calls === 1) await new Promise<void>((resolve) => (release = resolve));
      return actual.writeArchive(...args);
    }),
  };
});

let work: string;
let layoutDir: string;
const IMAGES = 6;

beforeAll(async () => {
  work = await makeTempDir('archive-group-commit');
  layoutDir = join(work, 'six');
  for (let i = 0; i < IMAGES; i++) await buildOciLayout(layoutDir, { tag: `t${i}`, layers: 1, layerSize: 400 + i, seed: `agc-${i}`, mediaTypes: 'oci' });
});
afterAll(async () => {
  await removeTempDir(work);
});

async function commitAll(target: ImageTarget, name: (tag: string) => string): Promise<number> {
  vi.mocked(writeArchive).mockClear();
  const source = createOciLayoutSource(layoutDir);
  const images = await source.images();
  for (const image of images) await copyManifest(source, target, image.root);
  const commits = images.map((image) => target.commit(image.root, [name(image.names[0]!)]));
  // Generous for five commits to read their few staged files and queue behind the held first write.
  await new Promise((resolve) => setTimeout(resolve, 500));
  release();
  await Promise.all(commits);
  await target.close();
  return vi.mocked(writeArchive).mock.calls.length;
}

describe('archive targets write commits that arrive together in one go', () => {
  it('docker-archive: six images, two archive writes, every image with its name', async () => {
    const file = join(work, 'six-docker.tar');
    const writes = await commitAll(createDockerArchiveTarget(file), (tag) => `example.com/app:${tag}`);
    expect(writes).toBe(2);
    const archive = await openArchive({ file });
    const entry = archive.files.get('manifest.json');
    const chunks: Buffer[] = [];
    if (entry) for await (const chunk of archive.read(entry)) chunks.push(chunk as Buffer);
    await archive.close();
    const listed = JSON.parse(Buffer.concat(chunks).toString()) as Array<{ RepoTags: string[] }>;
    expect(listed.flatMap((e) => e.RepoTags).sort()).toEqual([...Array(IMAGES).keys()].map((i) => `example.com/app:t${i}`));
  });

  it('oci-archive: six images, two archive writes, every image with its name', async () => {
    const file = join(work, 'six-oci.tar');
    const writes = await commitAll(createOciArchiveTarget(file), (tag) => tag);
    expect(writes).toBe(2);
    const back = createOciArchiveSource(file);
    const names = (await back.images()).flatMap((image) => image.names).sort();
    await back.close();
    expect(names).toEqual([...Array(IMAGES).keys()].map((i) => `t${i}`));
  });
});
