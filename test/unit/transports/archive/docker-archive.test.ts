import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Descriptor, ImageManifest } from '../../../../src/media/types.js';
import { createDockerArchiveSource, createDockerArchiveTarget } from '../../../../src/transports/archive/index.js';
import { openArchive } from '../../../../src/transports/archive/open-archive.js';
import { createOciLayoutSource, createOciLayoutTarget } from '../../../../src/transports/oci-layout/index.js';
import { buildOciLayout, type OciLayoutResult } from '../../../helpers/oci-fixtures.js';
import { makeTempDir, removeTempDir } from '../../../helpers/tmp.js';
import { copyAll, copyManifest } from '../helpers/copy-all.js';

let work: string;
let image: OciLayoutResult;
let other: OciLayoutResult;
let multi: OciLayoutResult;

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

beforeAll(async () => {
  work = await makeTempDir('docker-archive');
  image = await buildOciLayout(join(work, 'image'), { tag: 'v1', layers: 3, layerSize: 30_000, seed: 'docker-archive', mediaTypes: 'docker' });
  other = await buildOciLayout(join(work, 'other'), { tag: 'v2', layers: 1, layerSize: 1000, seed: 'docker-archive-2', mediaTypes: 'oci' });
  multi = await buildOciLayout(join(work, 'multi'), { tag: 'm', platforms: ['linux/amd64', 'linux/arm64'], layers: 1, layerSize: 100, seed: 'da-multi', mediaTypes: 'oci' });
});
afterAll(async () => {
  await removeTempDir(work);
});

async function writeDockerArchive(file: string, layout: OciLayoutResult, ref?: string): Promise<void> {
  const source = createOciLayoutSource(layout.dir, { tag: layout.tag });
  const target = createDockerArchiveTarget(file, ref === undefined ? {} : { ref });
  await copyAll(source, target, (await source.images())[0]!);
  await target.close();
}

async function fileOf(file: string, name: string): Promise<Buffer> {
  const archive = await openArchive({ file });
  const entry = archive.files.get(name);
  if (!entry) throw new Error(`${name} not in ${file}`);
  const chunks: Buffer[] = [];
  for await (const chunk of archive.read(entry)) chunks.push(chunk as Buffer);
  await archive.close();
  return Buffer.concat(chunks);
}

describe('docker-archive target', () => {
  it('writes manifest.json, repositories, the config and uncompressed layers named by diff ID', async () => {
    const file = join(work, 'save.tar');
    await writeDockerArchive(file, image, 'example.com/team/app:v1');
    const [entry] = JSON.parse((await fileOf(file, 'manifest.json')).toString()) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
    const diffIds = image.images[0]!.layers.map((l) => l.diffId);
    expect(entry).toEqual({
      Config: `${image.images[0]!.config.digest.slice(7)}.json`,
      RepoTags: ['example.com/team/app:v1'],
      Layers: diffIds.map((d) => `${d.slice(7)}.tar`),
    });
    for (const [i, layer] of image.images[0]!.layers.entries()) {
      const stored = await fileOf(file, entry!.Layers[i]!);
      expect(sha256(stored)).toBe(layer.diffId);
      const gz = await readFile(join(image.dir, 'blobs', 'sha256', layer.descriptor.digest.slice(7)));
      expect(stored.equals(gunzipSync(gz))).toBe(true);
    }
    expect(sha256(await fileOf(file, entry!.Config))).toBe(image.images[0]!.config.digest);
    const repositories = JSON.parse((await fileOf(file, 'repositories')).toString()) as Record<string, Record<string, string>>;
    const topId = repositories['example.com/team/app']?.['v1'];
    expect(topId).toMatch(/^[0-9a-f]{64}$/);
    expect(sha256(await fileOf(file, `${topId}/layer.tar`))).toBe(diffIds.at(-1));
    expect((await fileOf(file, `${topId}/VERSION`)).toString()).toBe('1.0');
    expect((await readdir(work)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('names Docker Hub images in their familiar form, as docker save does', async () => {
    const file = join(work, 'hub.tar');
    await writeDockerArchive(file, image, 'docker.io/library/busybox');
    const [entry] = JSON.parse((await fileOf(file, 'manifest.json')).toString()) as Array<{ RepoTags: string[] }>;
    expect(entry?.RepoTags).toEqual(['busybox:latest']);
    expect(JSON.parse((await fileOf(file, 'repositories')).toString())).toHaveProperty('busybox.latest');
  });

  it('without a reference, writes the image untagged', async () => {
    const file = join(work, 'untagged.tar');
    await writeDockerArchive(file, other);
    const [entry] = JSON.parse((await fileOf(file, 'manifest.json')).toString()) as Array<{ RepoTags: string[] }>;
    expect(entry?.RepoTags).toEqual([]);
    expect(JSON.parse((await fileOf(file, 'repositories')).toString())).toEqual({});
  });

  it('refuses a multi-platform index with USAGE and a hint to choose a platform', async () => {
    const source = createOciLayoutSource(multi.dir, { tag: 'm' });
    const target = createDockerArchiveTarget(join(work, 'multi.tar'), { ref: 'multi:1' });
    const err = await copyAll(source, target, (await source.images())[0]!).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'USAGE', hint: expect.stringContaining('--platform') });
    expect(await readdir(work)).not.toContain('multi.tar');
    await target.close();
  });

  it('refuses a digest reference', () => {
    expect(() => createDockerArchiveTarget(join(work, 'x.tar'), { ref: `app@sha256:${'a'.repeat(64)}` })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('a corrupted layer is DIGEST_MISMATCH and nothing of it is kept', async () => {
    const layer = image.images[0]!.layers[0]!.descriptor;
    const bytes = Buffer.from(await readFile(join(image.dir, 'blobs', 'sha256', layer.digest.slice(7))));
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] as number) ^ 0x55;
    const target = createDockerArchiveTarget(join(work, 'corrupt.tar'));
    await expect(target.writeBlob(layer, Readable.from([bytes]), { from: 0 })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await target.hasBlob(layer)).toBe(false);
    const layers = await readdir(join(work, '.corrupt.tar.gantry-staging', 'layers')).catch(() => []);
    expect(layers.filter((n) => n.endsWith('.tar'))).toEqual([]);
  });

  it('damage that breaks the gzip stream early is still reported as the DIGEST_MISMATCH it is', async () => {
    const layer = image.images[0]!.layers[1]!.descriptor;
    const bytes = Buffer.from(await readFile(join(image.dir, 'blobs', 'sha256', layer.digest.slice(7))));
    bytes.fill(0xff, 10, 40);
    const target = createDockerArchiveTarget(join(work, 'early.tar'));
    // The rest arrives late, so the decompressor meets the damage long before the digest can be known.
    const body = Readable.from(
      (async function* () {
        yield bytes.subarray(0, 5000);
        await new Promise((resolve) => setTimeout(resolve, 100));
        yield bytes.subarray(5000);
      })(),
    );
    await expect(target.writeBlob(layer, body, { from: 0 })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await target.hasBlob(layer)).toBe(false);
  });

  it('content that verifies but is broken gzip is MANIFEST_INVALID; zstd is UNSUPPORTED', async () => {
    const target = createDockerArchiveTarget(join(work, 'bad-gzip.tar'));
    const broken = Buffer.concat([gzipSync(Buffer.from('x'.repeat(1000))).subarray(0, 20), Buffer.from('not deflate data at all')]);
    const desc: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(broken), size: broken.length };
    await expect(target.writeBlob(desc, Readable.from([broken]), { from: 0 })).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
    const zstdLabel: Descriptor = { ...desc, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' };
    await expect(target.writeBlob(zstdLabel, Readable.from([broken]), { from: 0 })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    const zstdBytes = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(100)]);
    const zstdContent: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(zstdBytes), size: zstdBytes.length };
    await expect(target.writeBlob(zstdContent, Readable.from([zstdBytes]), { from: 0 })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('trusts the content over the label: an uncompressed layer labelled gzip is stored as it is', async () => {
    const target = createDockerArchiveTarget(join(work, 'mislabelled.tar'));
    const tar = Buffer.alloc(2048, 0);
    tar.write('file.txt', 0);
    const desc: Descriptor = { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha256(tar), size: tar.length };
    await target.writeBlob(desc, Readable.from([tar.subarray(0, 2), tar.subarray(2)]), { from: 0 });
    expect(await target.hasBlob(desc)).toBe(true);
    expect((await readFile(join(work, '.mislabelled.tar.gantry-staging', 'layers', `${desc.digest.slice(7)}.tar`))).equals(tar)).toBe(true);
  });

  it('lists images in the same order whichever was committed first', async () => {
    const order = async (layouts: OciLayoutResult[], name: string): Promise<string[]> => {
      const file = join(work, name);
      const target = createDockerArchiveTarget(file);
      for (const layout of layouts) {
        const source = createOciLayoutSource(layout.dir, { tag: layout.tag });
        const [found] = await source.images();
        await copyAll(source, target, { root: found!.root, names: [`example.com/${layout.tag}:1`] });
      }
      await target.close();
      return (JSON.parse((await fileOf(file, 'manifest.json')).toString()) as Array<{ RepoTags: string[] }>).map((e) => e.RepoTags.join());
    };
    const forward = await order([image, other], 'forward.tar');
    expect(forward).toEqual(['example.com/v1:1', 'example.com/v2:1']);
    expect(await order([other, image], 'backward.tar')).toEqual(forward);
  });

  it('keeps one image per config and moves a tag to the image committed last', async () => {
    const file = join(work, 'two.tar');
    const target = createDockerArchiveTarget(file, { ref: 'app:latest' });
    for (const layout of [image, other]) {
      const source = createOciLayoutSource(layout.dir, { tag: layout.tag });
      await copyAll(source, target, (await source.images())[0]!);
    }
    await target.close();
    const entries = JSON.parse((await fileOf(file, 'manifest.json')).toString()) as Array<{ RepoTags: string[]; Config: string }>;
    // Named images first, untagged last: the order does not depend on which commit came first.
    expect(entries.map((e) => e.RepoTags)).toEqual([['app:latest'], []]);
    expect(entries[0]?.Config).toBe(`${other.images[0]?.config.digest.slice('sha256:'.length)}.json`);
  });
});

interface ManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

async function manifestJson(file: string): Promise<ManifestEntry[]> {
  return JSON.parse((await fileOf(file, 'manifest.json')).toString()) as ManifestEntry[];
}

describe('docker-archive target: several images and their names', () => {
  let layouts: OciLayoutResult[];

  beforeAll(async () => {
    const dir = join(work, 'four');
    layouts = [];
    for (let i = 0; i < 4; i++) layouts.push(await buildOciLayout(dir, { tag: `t${i}`, layers: 1, layerSize: 500 + i, seed: `da-four-${i}`, mediaTypes: 'oci' }));
  });

  it('commits that run at once all land in the archive, each image under the names it was committed with', async () => {
    const file = join(work, 'four.tar');
    const source = createOciLayoutSource(layouts[0]!.dir);
    const images = await source.images();
    expect(images).toHaveLength(4);
    const target = createDockerArchiveTarget(file);
    for (const image of images) await copyManifest(source, target, image.root);
    // Each image under a whole reference, as a containerd ref.name would name it.
    await Promise.all(images.map((image) => target.commit(image.root, [image.names[0]!.replace(/^t(\d)$/, 'example.com/team/app$1:v$1')])));
    await target.close();

    const entries = await manifestJson(file);
    const byConfig = new Map(entries.map((e) => [`sha256:${e.Config.slice(0, -'.json'.length)}`, e.RepoTags]));
    expect(byConfig.size).toBe(4);
    layouts.forEach((layout, i) => expect(byConfig.get(layout.images[0]!.config.digest)).toEqual([`example.com/team/app${i}:v${i}`]));
    const repositories = JSON.parse((await fileOf(file, 'repositories')).toString()) as Record<string, Record<string, string>>;
    expect(Object.keys(repositories).sort()).toEqual([0, 1, 2, 3].map((i) => `example.com/team/app${i}`));
  });

  it('an image committed under several names is one manifest.json entry listing them all, and repositories has each', async () => {
    const file = join(work, 'one-image-three-tags.tar');
    const source = createOciLayoutSource(image.dir, { tag: 'v1' });
    const [found] = await source.images();
    const target = createDockerArchiveTarget(file);
    await copyManifest(source, target, found!.root);
    await Promise.all([
      target.commit(found!.root, ['docker.io/library/app:1', 'localhost:5000/x:1']),
      target.commit(found!.root, ['docker.io/library/app:latest']),
    ]);
    await target.close();

    const [entry, ...rest] = await manifestJson(file);
    expect(rest).toEqual([]);
    expect([...entry!.RepoTags].sort()).toEqual(['app:1', 'app:latest', 'localhost:5000/x:1']);
    const repositories = JSON.parse((await fileOf(file, 'repositories')).toString()) as Record<string, Record<string, string>>;
    const topId = repositories['app']?.['1'];
    expect(topId).toMatch(/^[0-9a-f]{64}$/);
    expect(repositories).toEqual({ app: { '1': topId, latest: topId }, 'localhost:5000/x': { '1': topId } });
  });

  it('bare tags given to commit name nothing (they have no repository); the ref option still names the image', async () => {
    const bare = join(work, 'bare.tar');
    await copyAll(createOciLayoutSource(other.dir, { tag: 'v2' }), createDockerArchiveTarget(bare), { root: other.root, names: ['v2', 'latest'] });
    expect((await manifestJson(bare)).map((e) => e.RepoTags)).toEqual([[]]);

    const named = join(work, 'named-and-more.tar');
    const target = createDockerArchiveTarget(named, { ref: 'app:v2' });
    await copyAll(createOciLayoutSource(other.dir, { tag: 'v2' }), target, { root: other.root, names: ['v2', 'example.com/mirror/app:v2'] });
    await target.close();
    expect((await manifestJson(named)).map((e) => e.RepoTags)).toEqual([['app:v2', 'example.com/mirror/app:v2']]);
  });
});

describe('docker-archive source', () => {
  it('makes a schema2 manifest of the uncompressed layers and the config, which copies into a layout', async () => {
    const file = join(work, 'read.tar');
    await writeDockerArchive(file, image, 'app:v1');
    const source = createDockerArchiveSource(file, { ref: 'docker.io/library/app:v1' });
    const [found] = await source.images();
    expect(found?.names).toEqual(['v1']);
    const manifest = await source.manifest(found!.root);
    expect(manifest.kind).toBe('image');
    const parsed = manifest.manifest as ImageManifest;
    expect(parsed.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(parsed.config).toEqual({ mediaType: 'application/vnd.docker.container.image.v1+json', size: image.images[0]!.config.size, digest: image.images[0]!.config.digest });
    expect(parsed.layers.map((l) => [l.mediaType, l.digest])).toEqual(image.images[0]!.layers.map((l) => ['application/vnd.docker.image.rootfs.diff.tar', l.diffId]));
    expect(Object.keys(JSON.parse(manifest.bytes.toString()) as object)).toEqual(['schemaVersion', 'mediaType', 'config', 'layers']);

    const layoutDir = join(work, 'from-archive');
    await copyAll(source, createOciLayoutTarget(layoutDir), found!);
    await source.close();
    const back = createOciLayoutSource(layoutDir, { tag: 'v1' });
    expect((await back.images())[0]?.root.digest).toBe(found!.root.digest);
  });

  it('reads a gzip\'d archive the same way', async () => {
    const file = join(work, 'read.tar');
    const gz = join(work, 'read.tar.gz');
    await writeFile(gz, gzipSync(await readFile(file)));
    const plain = await createDockerArchiveSource(file).images();
    const zipped = createDockerArchiveSource(gz);
    expect(await zipped.images()).toEqual(plain);
    await zipped.close();
  });

  it('selects by @N, lists every image without a reference, and names what there is when a tag is missing', async () => {
    const file = join(work, 'two.tar');
    expect((await createDockerArchiveSource(file).images()).map((i) => i.names)).toEqual([['latest'], []]);
    expect((await createDockerArchiveSource(file, { ref: '@1' }).images())[0]?.names).toEqual([]);
    await expect(createDockerArchiveSource(file, { ref: '@5' }).images()).rejects.toMatchObject({ code: 'NOT_FOUND', hint: expect.stringContaining('2 images: @0 to @1') });
    await expect(createDockerArchiveSource(file, { ref: 'app:nope' }).images()).rejects.toMatchObject({
      code: 'NOT_FOUND',
      hint: expect.stringContaining('app:latest'),
    });
  });

  it('an archive without manifest.json is MANIFEST_INVALID', async () => {
    const source = createOciLayoutSource(other.dir, { tag: 'v2' });
    const { createOciArchiveTarget } = await import('../../../../src/transports/archive/index.js');
    const target = createOciArchiveTarget(join(work, 'oci.tar'));
    await copyAll(source, target, (await source.images())[0]!);
    await target.close();
    await expect(createDockerArchiveSource(join(work, 'oci.tar')).images()).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
  });
});

describe('docker-archive source: references', () => {
  it('gives each image its RepoTags in full, so another archive can keep them', async () => {
    const file = join(work, 'refs.tar');
    const source = createOciLayoutSource(image.dir, { tag: 'v1' });
    const [found] = await source.images();
    const target = createDockerArchiveTarget(file);
    await copyAll(source, target, { root: found!.root, names: ['docker.io/library/app:1', 'localhost:5000/x:2'] });
    await target.close();

    const all = await createDockerArchiveSource(file).images();
    expect(all.map(({ names, references }) => ({ names, references }))).toEqual([{ names: ['1', '2'], references: ['app:1', 'localhost:5000/x:2'] }]);
    const [byIndex] = await createDockerArchiveSource(file, { ref: '@0' }).images();
    expect(byIndex?.references).toEqual(['app:1', 'localhost:5000/x:2']);
    const [byName] = await createDockerArchiveSource(file, { ref: 'localhost:5000/x:2' }).images();
    expect(byName).toMatchObject({ names: ['2'], references: ['localhost:5000/x:2'] });
  });
});
