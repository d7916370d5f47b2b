import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDigester } from '../../../../src/digest/index.js';
import { GantryError } from '../../../../src/errors/index.js';
import { createOciLayoutSource } from '../../../../src/transports/oci-layout/index.js';
import { buildOciLayout, type OciLayoutResult } from '../../../helpers/oci-fixtures.js';
import { makeTempDir, removeTempDir } from '../../../helpers/tmp.js';

let work: string;
let multi: OciLayoutResult;
let single: OciLayoutResult;

beforeAll(async () => {
  work = await makeTempDir('layout-source');
  const dir = join(work, 'layout');
  multi = await buildOciLayout(dir, { tag: 'multi', platforms: ['linux/amd64', 'linux/arm64'], layers: 2, layerSize: 4096, seed: 'src-multi', mediaTypes: 'oci' });
  single = await buildOciLayout(dir, { tag: 'single', layers: 1, layerSize: 4096, seed: 'src-single', mediaTypes: 'oci' });
});
afterAll(async () => {
  await removeTempDir(work);
});

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('OCI layout source', () => {
  it('names the image a tag points at, its descriptor without the name annotation', async () => {
    const images = await createOciLayoutSource(multi.dir, { tag: 'multi' }).images();
    expect(images).toEqual([{ root: { mediaType: multi.root.mediaType, digest: multi.digest, size: multi.root.size }, names: ['multi'] }]);
  });

  it('without a tag, names every entry of index.json', async () => {
    const images = await createOciLayoutSource(multi.dir).images();
    expect(images.map((i) => [i.root.digest, i.names])).toEqual([
      [multi.digest, ['multi']],
      [single.digest, ['single']],
    ]);
  });

  it('a missing tag is NOT_FOUND, and the hint lists the names there are', async () => {
    const err = await createOciLayoutSource(multi.dir, { tag: 'nope' }).images().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GantryError);
    expect((err as GantryError).code).toBe('NOT_FOUND');
    expect((err as GantryError).hint).toContain('multi, single');
  });

  it('a directory without a layout is NOT_FOUND', async () => {
    await expect(createOciLayoutSource(join(work, 'nothing-here')).images()).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a layout of another major version', async () => {
    const dir = join(work, 'v2');
    await buildOciLayout(dir, { tag: 'x', layers: 0, layerSize: 0, seed: 'v2', mediaTypes: 'oci' });
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    await expect(createOciLayoutSource(dir).images()).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('reads manifests digest-checked and parsed', async () => {
    const source = createOciLayoutSource(multi.dir, { tag: 'multi' });
    const [image] = await source.images();
    const manifest = await source.manifest(image!.root);
    expect(manifest.kind).toBe('index');
    expect(createDigester().update(manifest.bytes).digest()).toBe(multi.digest);
  });

  it('a manifest file whose bytes changed is DIGEST_MISMATCH', async () => {
    const dir = join(work, 'tampered');
    const built = await buildOciLayout(dir, { tag: 't', layers: 1, layerSize: 100, seed: 'tampered', mediaTypes: 'oci' });
    const path = join(dir, 'blobs', 'sha256', built.digest.slice(7));
    const bytes = await readFile(path);
    await writeFile(path, Buffer.from(bytes.toString('utf8').replace('"schemaVersion":2', '"schemaVersion":2 ')).subarray(0, bytes.length));
    await expect(createOciLayoutSource(dir).manifest(built.root)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('streams a blob from an offset', async () => {
    const layer = single.images[0]!.layers[0]!.descriptor;
    const whole = await readFile(join(single.dir, 'blobs', 'sha256', layer.digest.slice(7)));
    const reader = await createOciLayoutSource(single.dir).blob(layer, { from: 1000 });
    expect(reader.offset).toBe(1000);
    expect((await readAll(reader.body)).equals(whole.subarray(1000))).toBe(true);
  });

  it('a blob file of the wrong length is SIZE_MISMATCH; a missing one BLOB_UNKNOWN', async () => {
    const layer = single.images[0]!.layers[0]!.descriptor;
    const source = createOciLayoutSource(single.dir);
    await expect(source.blob({ ...layer, size: layer.size + 1 })).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
    await expect(source.blob({ ...layer, digest: `sha256:${'a'.repeat(64)}` })).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
  });
});
