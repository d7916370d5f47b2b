import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/media/types.js';
import { parseReference } from '../../src/reference/index.js';
import {
  createDockerArchiveSource,
  createDockerArchiveTarget,
  createOciArchiveSource,
  createOciArchiveTarget,
} from '../../src/transports/archive/index.js';
import { createLocalStoreTarget, listImages } from '../../src/transports/local-store/index.js';
import { createOciLayoutSource, createOciLayoutTarget } from '../../src/transports/oci-layout/index.js';
import type { ImageSource, ImageTarget } from '../../src/transports/types.js';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { skopeoCopy, skopeoDigest, skopeoInspect } from '../helpers/skopeo.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { copyAll } from '../unit/transports/helpers/copy-all.js';

// Interop of the local transports with skopeo (containers/image), both ways:
// what skopeo writes, gantry reads; what gantry writes, skopeo reads; and a
// multi-platform index survives the round trip byte for byte.

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
let work: string;
let multi: OciLayoutResult;
let single: OciLayoutResult;

beforeAll(async () => {
  work = await makeTempDir('local-transports');
  multi = await buildOciLayout(join(work, 'multi'), {
    tag: 'v1',
    platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'],
    layers: 2,
    sharedLayers: 1,
    layerSize: 64 * 1024,
    seed: 'local-transports-multi',
    mediaTypes: 'oci',
    annotations: { 'org.opencontainers.image.source': 'https://example.invalid/multi' },
  });
  single = await buildOciLayout(join(work, 'single'), { tag: 'one', layers: 3, layerSize: 48 * 1024, seed: 'local-transports-single', mediaTypes: 'docker' });
}, 60_000);

afterAll(async () => {
  await removeTempDir(work);
});

async function copyFirst(source: ImageSource, target: ImageTarget): Promise<Descriptor> {
  const [image] = await source.images();
  if (!image) throw new Error(`${source.description} names no image`);
  await copyAll(source, target, image);
  await source.close();
  await target.close();
  return image.root;
}

async function blobFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of await readdir(join(dir, 'blobs', 'sha256'))) {
    if (name.startsWith('.')) continue;
    files.set(name, createHash('sha256').update(await readFile(join(dir, 'blobs', 'sha256', name))).digest('hex'));
  }
  return files;
}

describe('OCI layout interop with skopeo', () => {
  it('a multi-platform index goes skopeo → gantry → skopeo byte-identical', async () => {
    const viaSkopeo = join(work, 'oci-skopeo');
    const viaGantry = join(work, 'oci-gantry');
    const back = join(work, 'oci-back');
    await skopeoCopy(`oci:${multi.dir}:v1`, `oci:${viaSkopeo}:v1`, { multiArch: 'all', preserveDigests: true });
    const root = await copyFirst(createOciLayoutSource(viaSkopeo, { tag: 'v1' }), createOciLayoutTarget(viaGantry, { tag: 'v1' }));
    expect(root.digest).toBe(multi.digest);
    expect(await skopeoDigest(`oci:${viaGantry}:v1`)).toBe(multi.digest);
    await skopeoCopy(`oci:${viaGantry}:v1`, `oci:${back}:v1`, { multiArch: 'all', preserveDigests: true });
    const original = await blobFiles(multi.dir);
    expect(await blobFiles(viaGantry)).toEqual(original);
    expect(await blobFiles(back)).toEqual(original);
    for (const [name, hash] of original) expect(hash).toBe(name);
  });

  it('skopeo reads a docker-typed image gantry wrote to a layout', async () => {
    const dir = join(work, 'oci-docker');
    await copyFirst(createOciLayoutSource(single.dir, { tag: 'one' }), createOciLayoutTarget(dir, { tag: 'one' }));
    // skopeo 1.9 finds docker-typed images only as the sole entry of a layout (see oci-fixtures.ts).
    expect(await skopeoDigest(`oci:${dir}`)).toBe(single.digest);
    const config = await skopeoInspect(`oci:${dir}`, { config: true });
    expect((config as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids).toEqual(single.images[0]!.layers.map((l) => l.diffId));
  });
});

describe('oci-archive interop with skopeo', () => {
  it('gantry reads the archive skopeo writes and writes one skopeo reads, digests preserved', async () => {
    const skopeoTar = join(work, 'skopeo-oci.tar');
    const gantryTar = join(work, 'gantry-oci.tar');
    await skopeoCopy(`oci:${multi.dir}:v1`, `oci-archive:${skopeoTar}:v1`, { multiArch: 'all', preserveDigests: true });
    const root = await copyFirst(createOciArchiveSource(skopeoTar, { tag: 'v1' }), createOciArchiveTarget(gantryTar, { tag: 'v2' }));
    expect(root.digest).toBe(multi.digest);
    expect(await skopeoDigest(`oci-archive:${gantryTar}:v2`)).toBe(multi.digest);
    const back = join(work, 'oci-archive-back');
    await skopeoCopy(`oci-archive:${gantryTar}:v2`, `oci:${back}:v2`, { multiArch: 'all', preserveDigests: true });
    expect(await blobFiles(back)).toEqual(await blobFiles(multi.dir));
  });
});

describe('docker-archive interop with skopeo', () => {
  it('skopeo reads the archive gantry writes, finding the config and the uncompressed layers gantry finds', async () => {
    const file = join(work, 'gantry-docker.tar');
    await copyFirst(createOciLayoutSource(single.dir, { tag: 'one' }), createDockerArchiveTarget(file, { ref: 'example.com/team/app:v1' }));
    const source = createDockerArchiveSource(file, { ref: 'example.com/team/app:v1' });
    const gantryView = (await source.manifest((await source.images())[0]!.root)).manifest as { config: Descriptor; layers: Descriptor[] };
    const raw = (await skopeoInspect(`docker-archive:${file}:example.com/team/app:v1`, { raw: true })) as { config: Descriptor; layers: Descriptor[] };
    expect(raw.config.digest).toBe(single.images[0]!.config.digest);
    expect(gantryView.config).toEqual(raw.config);
    // skopeo 1.9 labels the uncompressed layers .tar.gzip (see schema2ManifestBytes); the bytes are the same.
    expect(raw.layers.map((l) => [l.size, l.digest])).toEqual(gantryView.layers.map((l) => [l.size, l.digest]));
    expect(gantryView.layers.map((l) => [l.mediaType, l.digest])).toEqual(
      single.images[0]!.layers.map((l) => ['application/vnd.docker.image.rootfs.diff.tar', l.diffId]),
    );
    const out = join(work, 'docker-archive-to-oci');
    await skopeoCopy(`docker-archive:${file}:example.com/team/app:v1`, `oci:${out}:v1`);
    expect((await skopeoInspect(`oci:${out}:v1`, { config: true }) as { rootfs: unknown }).rootfs).toEqual({
      type: 'layers',
      diff_ids: single.images[0]!.layers.map((l) => l.diffId),
    });
  });

  it('gantry reads the archive skopeo writes, with the layers skopeo sees, and skopeo reads the copy back', async () => {
    const file = join(work, 'skopeo-docker.tar');
    await skopeoCopy(`oci:${single.dir}`, `docker-archive:${file}:app:v1`);
    const source = createDockerArchiveSource(file, { ref: 'app:v1' });
    const [image] = await source.images();
    expect(image?.names).toEqual(['v1']);
    const mine = (await source.manifest(image!.root)).manifest as { config: Descriptor; layers: Descriptor[] };
    const theirs = (await skopeoInspect(`docker-archive:${file}:app:v1`, { raw: true })) as { config: Descriptor; layers: Descriptor[] };
    expect(mine.config).toEqual(theirs.config);
    expect(mine.layers.map((l) => l.digest)).toEqual(theirs.layers.map((l) => l.digest));
    expect(mine.layers.map((l) => l.digest)).toEqual(single.images[0]!.layers.map((l) => l.diffId));
    const layout = join(work, 'skopeo-docker-layout');
    await copyFirst(source, createOciLayoutTarget(layout, { tag: 'v1' }));
    expect(await skopeoDigest(`oci:${layout}`)).toBe(image?.root.digest);
    const again = join(work, 'again.tar');
    await skopeoCopy(`oci:${layout}`, `docker-archive:${again}:app:v1`);
    expect((await createDockerArchiveSource(again).images())[0]?.root.digest).toBe(image?.root.digest);
  });

  it('one platform of an index, chosen by skopeo, round-trips through a gantry docker-archive', async () => {
    const file = join(work, 'platform.tar');
    const amd64 = multi.images.find((i) => i.platform.architecture === 'amd64')!;
    const source = createOciLayoutSource(multi.dir, { tag: 'v1' });
    const target = createDockerArchiveTarget(file, { ref: 'multi:amd64' });
    await copyAll(source, target, { root: amd64.manifest, names: [] });
    await target.close();
    const config = (await skopeoInspect(`docker-archive:${file}:multi:amd64`, { config: true })) as { architecture: string };
    expect(config.architecture).toBe('amd64');
  });
});

describe('several gantry processes at once', () => {
  const child = (script: string): Promise<{ stdout: string }> =>
    run(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, timeout: 60_000 });

  it('commits to one layout from two processes all survive', async () => {
    const dir = join(work, 'concurrent-layout');
    const script = (prefix: string): string => `
      import { createOciLayoutSource, createOciLayoutTarget } from './dist/transports/oci-layout/index.js';
      const source = createOciLayoutSource(${JSON.stringify(single.dir)}, { tag: 'one' });
      const [image] = await source.images();
      const manifest = await source.manifest(image.root);
      for (let i = 0; i < 25; i++) {
        const target = createOciLayoutTarget(${JSON.stringify(dir)});
        for (const blob of [manifest.manifest.config, ...manifest.manifest.layers]) {
          if (await target.hasBlob(blob)) continue;
          await target.writeBlob(blob, (await source.blob(blob)).body, { from: 0 });
        }
        await target.writeManifest(image.root, manifest.bytes);
        await target.commit(image.root, ['${prefix}' + i]);
      }`;
    await Promise.all([child(script('a')), child(script('b'))]);
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    const names = index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).sort();
    expect(names).toEqual([...Array.from({ length: 25 }, (_, i) => `a${i}`), ...Array.from({ length: 25 }, (_, i) => `b${i}`)].sort());
    expect(await blobFiles(dir)).toEqual(await blobFiles(single.dir));
  });

  it('pulls into one store from two processes while a third removes images, leaving a consistent store', async () => {
    const env = { GANTRY_HOME: join(work, 'concurrent-home') };
    const puller = (tags: string[]): string => `
      import { parseReference } from './dist/reference/index.js';
      import { createOciLayoutSource } from './dist/transports/oci-layout/index.js';
      import { createLocalStoreTarget } from './dist/transports/local-store/index.js';
      const source = createOciLayoutSource(${JSON.stringify(multi.dir)}, { tag: 'v1' });
      const [image] = await source.images();
      const copy = async (target, desc) => {
        const m = await source.manifest(desc);
        if (m.kind === 'index') for (const c of m.manifest.manifests) await copy(target, c);
        else for (const b of [m.manifest.config, ...m.manifest.layers]) {
          if (!(await target.hasBlob(b))) await target.writeBlob(b, (await source.blob(b)).body, { from: 0 });
        }
        await target.writeManifest(desc, m.bytes);
      };
      for (const tag of ${JSON.stringify(tags)}) {
        const target = createLocalStoreTarget(${JSON.stringify(env)}, parseReference('app:' + tag));
        await copy(target, image.root);
        await target.commit(image.root, []);
        await target.close();
      }`;
    const remover = `
      import { parseReference } from './dist/reference/index.js';
      import { removeImage } from './dist/transports/local-store/index.js';
      let removed = 0;
      for (let i = 0; i < 200 && removed < 5; i++) {
        try { await removeImage(${JSON.stringify(env)}, parseReference('app:r' + removed)); removed++; }
        catch (err) { if (err.code !== 'NOT_FOUND') throw err; await new Promise((r) => setTimeout(r, 20)); }
      }`;
    const keep = Array.from({ length: 6 }, (_, i) => `k${i}`);
    const doomed = Array.from({ length: 5 }, (_, i) => `r${i}`);
    await Promise.all([child(puller(keep)), child(puller(doomed)), child(remover)]);
    const images = await listImages(env);
    expect(images.map((i) => i.tag).sort()).toEqual([...keep].sort());
    // Every remaining image is whole: all its blobs are still there.
    for (const image of images) expect(image.size).toBe(multi.totalSize);
    const store = createLocalStoreTarget(env, parseReference('app:k0'));
    for (const blob of multi.blobs) expect(await store.hasBlob(blob)).toBe(true);
    await store.close();
  });
});
