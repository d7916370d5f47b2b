import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOciArchiveSource, createOciArchiveTarget } from '../../../../src/transports/archive/index.js';
import { createOciLayoutSource } from '../../../../src/transports/oci-layout/index.js';
import { buildOciLayout, type OciLayoutResult } from '../../../helpers/oci-fixtures.js';
import { makeTempDir, removeTempDir } from '../../../helpers/tmp.js';
import { copyAll, copyManifest } from '../helpers/copy-all.js';
import { writeRawTar } from './tar-fixtures.js';

let work: string;
let fixture: OciLayoutResult;

beforeAll(async () => {
  work = await makeTempDir('oci-archive');
  fixture = await buildOciLayout(join(work, 'fixture'), {
    tag: 'v1',
    platforms: ['linux/amd64', 'linux/arm64'],
    layers: 2,
    sharedLayers: 1,
    layerSize: 20_000,
    seed: 'oci-archive',
    mediaTypes: 'oci',
  });
});
afterAll(async () => {
  await removeTempDir(work);
});

describe('oci-archive', () => {
  it('writes an archive that reads back as the same index, and cleans its staging dir on close', async () => {
    const file = join(work, 'out.tar');
    const source = createOciLayoutSource(fixture.dir, { tag: 'v1' });
    const target = createOciArchiveTarget(file, { tag: 'release' });
    const [image] = await source.images();
    await copyAll(source, target, image!);
    await target.close();
    expect((await readdir(work)).sort()).toEqual(['fixture', 'out.tar']);

    const back = createOciArchiveSource(file, { tag: 'release' });
    const [read] = await back.images();
    expect(read).toEqual({ root: { mediaType: fixture.root.mediaType, digest: fixture.digest, size: fixture.root.size }, names: ['release'] });
    const manifest = await back.manifest(read!.root);
    expect(manifest.kind).toBe('index');
    for (const blob of fixture.blobs) {
      const reader = await back.blob(blob);
      const chunks: Buffer[] = [];
      for await (const chunk of reader.body) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(await readFile(join(fixture.dir, 'blobs', 'sha256', blob.digest.slice(7))))).toBe(true);
    }
    await back.close();
  });

  it('holds exactly the blobs its images reach, with a layout skopeo recognizes', async () => {
    const file = join(work, 'exact.tar');
    const source = createOciLayoutSource(fixture.dir, { tag: 'v1' });
    const target = createOciArchiveTarget(file);
    await copyAll(source, target, (await source.images())[0]!);
    await target.close();
    const archive = await import('../../../../src/transports/archive/open-archive.js').then((m) => m.openArchive({ file }));
    const names = [...archive.files.keys()].sort();
    expect(names).toEqual(['index.json', 'oci-layout', ...fixture.blobs.map((b) => `blobs/sha256/${b.digest.slice(7)}`)].sort());
    await archive.close();
  });

  it('an archive that is no OCI layout is MANIFEST_INVALID; a missing tag NOT_FOUND', async () => {
    const file = join(work, 'foreign.tar');
    await writeRawTar(file, [{ name: 'hello.txt', content: 'hi' }]);
    await expect(createOciArchiveSource(file).images()).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
    const good = join(work, 'good.tar');
    const target = createOciArchiveTarget(good, { tag: 'a' });
    const source = createOciLayoutSource(fixture.dir, { tag: 'v1' });
    await copyAll(source, target, (await source.images())[0]!);
    await target.close();
    await expect(createOciArchiveSource(good, { tag: 'b' }).images()).rejects.toMatchObject({ code: 'NOT_FOUND', hint: expect.stringContaining('a') });
  });

  it('a failed copy keeps its staged blobs for the next run and writes no archive', async () => {
    const file = join(work, 'failed.tar');
    const target = createOciArchiveTarget(file);
    const layer = fixture.images[0]!.layers[0]!.descriptor;
    const reader = await createOciLayoutSource(fixture.dir).blob(layer);
    await target.writeBlob(layer, reader.body, { from: 0 });
    await target.close();
    const entries = await readdir(work);
    expect(entries).not.toContain('failed.tar');
    expect(entries).toContain('.failed.tar.gantry-staging');
    expect(await createOciArchiveTarget(file).hasBlob(layer)).toBe(true);
  });

  it('commits that run at once (as the engine runs them) all land in the archive with their names', async () => {
    const dir = join(work, 'four');
    const built: OciLayoutResult[] = [];
    for (let i = 0; i < 4; i++) built.push(await buildOciLayout(dir, { tag: `t${i}`, layers: 1, layerSize: 300 + i, seed: `oa-four-${i}`, mediaTypes: 'oci' }));
    const source = createOciLayoutSource(dir);
    const images = await source.images();
    const file = join(work, 'four.tar');
    const target = createOciArchiveTarget(file);
    for (const image of images) await copyManifest(source, target, image.root);
    await Promise.all(images.map((image) => target.commit(image.root, image.names)));
    await target.close();

    const back = createOciArchiveSource(file);
    const read = await back.images();
    await back.close();
    expect(Object.fromEntries(read.map((image) => [image.names[0], image.root.digest]))).toEqual(
      Object.fromEntries(built.map((layout, i) => [`t${i}`, layout.digest])),
    );
  });
});
