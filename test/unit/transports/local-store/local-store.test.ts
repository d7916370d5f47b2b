import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseReference } from '../../../../src/reference/index.js';
import {
  collectGarbage,
  createLocalStoreSource,
  createLocalStoreTarget,
  listImages,
  removeImage,
  storeDir,
  tagImage,
} from '../../../../src/transports/local-store/index.js';
import { createOciLayoutSource, createOciLayoutTarget } from '../../../../src/transports/oci-layout/index.js';
import { buildOciLayout, type OciLayoutResult } from '../../../helpers/oci-fixtures.js';
import { makeTempDir, removeTempDir } from '../../../helpers/tmp.js';
import { copyAll } from '../helpers/copy-all.js';

let work: string;
let env: { GANTRY_HOME: string };
let multi: OciLayoutResult;
let sibling: OciLayoutResult;

beforeEach(async () => {
  work = await makeTempDir('local-store');
  env = { GANTRY_HOME: join(work, 'home') };
  // Two images sharing their first layer: rmi of one must keep it for the other.
  multi = await buildOciLayout(join(work, 'fixtures'), {
    tag: 'multi',
    platforms: ['linux/amd64', 'linux/arm64/v8'],
    layers: 2,
    sharedLayers: 1,
    layerSize: 5000,
    seed: 'store',
    mediaTypes: 'oci',
  });
  sibling = await buildOciLayout(join(work, 'fixtures2'), { tag: 'one', layers: 1, layerSize: 7000, seed: 'store-2', mediaTypes: 'docker' });
});
afterEach(async () => {
  await removeTempDir(work);
});

async function pull(layout: OciLayoutResult, ref: string): Promise<void> {
  const source = createOciLayoutSource(layout.dir, { tag: layout.tag });
  const target = createLocalStoreTarget(env, parseReference(ref));
  try {
    await copyAll(source, target, (await source.images())[0]!);
  } finally {
    await target.close();
  }
}

async function storeNames(): Promise<string[]> {
  const index = JSON.parse(await readFile(join(storeDir(env), 'index.json'), 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
  return index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '');
}

async function blobCount(): Promise<number> {
  return (await readdir(join(storeDir(env), 'blobs', 'sha256'))).filter((n) => !n.startsWith('.')).length;
}

describe('local store', () => {
  it('names images by their normalized reference, as docker does', async () => {
    await pull(multi, 'alpine:3.20');
    await pull(sibling, 'ghcr.io/org/app:1');
    expect(await storeNames()).toEqual(['docker.io/library/alpine:3.20', 'ghcr.io/org/app:1']);
  });

  it('names an image pulled by digest alone repository@digest, whatever names the source has', async () => {
    await pull(multi, `alpine@${multi.digest}`);
    expect(await storeNames()).toEqual([`docker.io/library/alpine@${multi.digest}`]);
  });

  it('with neither tag nor digest (--all-tags), names the image by each name in the reference\'s repository', async () => {
    await pull(multi, 'docker.io/library/alpine');
    expect(await storeNames()).toEqual(['docker.io/library/alpine:multi']);
  });

  it('reads back what was stored, by tag or by digest', async () => {
    await pull(multi, 'alpine:3.20');
    const byTag = await createLocalStoreSource(env, parseReference('alpine:3.20')).images();
    expect(byTag).toEqual([{ root: expect.objectContaining({ digest: multi.digest }), names: ['3.20'] }]);
    const byDigest = await createLocalStoreSource(env, parseReference(`docker.io/library/alpine@${multi.digest}`)).images();
    expect(byDigest[0]?.root.digest).toBe(multi.digest);
  });

  it('an image that is not there is NOT_FOUND with a hint to pull it', async () => {
    await expect(createLocalStoreSource(env, parseReference('nope:1')).images()).rejects.toMatchObject({
      code: 'NOT_FOUND',
      hint: expect.stringContaining('gantry pull nope:1'),
    });
    await pull(multi, 'alpine:3.20');
    await expect(createLocalStoreSource(env, parseReference('alpine:3.19')).images()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(createLocalStoreSource(env, parseReference(`alpine:3.20@${sibling.digest}`)).images()).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lists images with their platforms and the size of their distinct blobs', async () => {
    await pull(multi, 'alpine:3.20');
    await pull(sibling, 'ghcr.io/org/app:1');
    expect(await listImages(env)).toEqual([
      { name: 'docker.io/library/alpine', tag: '3.20', digest: multi.digest, mediaType: multi.root.mediaType, platforms: ['linux/amd64', 'linux/arm64/v8'], size: multi.totalSize },
      { name: 'ghcr.io/org/app', tag: '1', digest: sibling.digest, mediaType: sibling.root.mediaType, platforms: ['linux/amd64'], size: sibling.totalSize },
    ]);
  });

  it('lists nothing when there is no store yet', async () => {
    expect(await listImages(env)).toEqual([]);
  });

  it('rmi removes the name and the blobs nothing else uses, keeping shared ones', async () => {
    await pull(multi, 'alpine:3.20');
    await pull(multi, 'alpine:latest');
    await pull(sibling, 'ghcr.io/org/app:1');
    const before = await blobCount();

    const first = await removeImage(env, parseReference('alpine:3.20'));
    expect(first).toMatchObject({ names: ['docker.io/library/alpine:3.20'], digest: multi.digest, garbage: { deletedBlobs: 0, deferred: false } });
    expect(await blobCount()).toBe(before);

    const second = await removeImage(env, parseReference('alpine'));
    expect(second.garbage).toEqual({ deletedBlobs: multi.blobs.length, freedBytes: multi.totalSize, staleStaged: 0, deferred: false });
    expect(await blobCount()).toBe(before - multi.blobs.length);
    // What remains is whole: the sibling still copies out of the store.
    await copyAll(createLocalStoreSource(env, parseReference('ghcr.io/org/app:1')), createOciLayoutTarget(join(work, 'check')), {
      root: sibling.root,
      names: ['ok'],
    });
  });

  it('rmi of an image that is not there is NOT_FOUND', async () => {
    await expect(removeImage(env, parseReference('ghost:1'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await pull(sibling, 'app:1');
    await expect(removeImage(env, parseReference('app:2'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('defers collection while another copy holds the store, and keeps its uncommitted blobs', async () => {
    await pull(multi, 'alpine:3.20');
    const busy = createLocalStoreTarget(env, parseReference('busybox:1'));
    const layer = sibling.images[0]!.layers[0]!.descriptor;
    const reader = await createOciLayoutSource(sibling.dir).blob(layer);
    await busy.writeBlob(layer, reader.body, { from: 0 });

    const removed = await removeImage(env, parseReference('alpine:3.20'));
    expect(removed.garbage).toEqual({ deletedBlobs: 0, freedBytes: 0, staleStaged: 0, deferred: true });
    expect(await busy.hasBlob(layer)).toBe(true);

    await busy.close();
    const later = await collectGarbage(env);
    expect(later).toEqual({ deletedBlobs: multi.blobs.length + 1, freedBytes: multi.totalSize + layer.size, staleStaged: 0, deferred: false });
  });

  it('keeps staged bytes an interrupted pull may resume, but not those abandoned for over a day', async () => {
    await pull(sibling, 'app:1');
    const partials = join(storeDir(env), 'blobs', 'sha256', '.partial');
    await mkdir(partials, { recursive: true });
    await writeFile(join(partials, 'a'.repeat(64)), 'recent');
    await writeFile(join(partials, 'b'.repeat(64)), 'abandoned');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    await utimes(join(partials, 'b'.repeat(64)), twoDaysAgo, twoDaysAgo);
    expect(await collectGarbage(env)).toEqual({ deletedBlobs: 0, freedBytes: 'abandoned'.length, staleStaged: 1, deferred: false });
    expect(await readdir(partials)).toEqual(['a'.repeat(64)]);
  });

  it('ignores the pin of a gantry that died', async () => {
    await pull(multi, 'alpine:3.20');
    const pins = join(env.GANTRY_HOME, 'state', 'pins');
    await mkdir(pins, { recursive: true });
    // PID 2^22+1 is above Linux's pid_max limit, so no process has it.
    await writeFile(join(pins, 'dead.json'), JSON.stringify({ pid: 4_194_305, host: (await import('node:os')).hostname() }));
    const removed = await removeImage(env, parseReference('alpine:3.20'));
    expect(removed.garbage.deferred).toBe(false);
    expect(await readdir(pins)).toEqual([]);
  });

  it('tag gives an image another name without copying, replacing what the name pointed at', async () => {
    await pull(multi, 'alpine:3.20');
    await pull(sibling, 'mine:v1');
    const before = await blobCount();
    expect(await tagImage(env, parseReference('alpine:3.20'), parseReference('mine:v1'))).toEqual({ name: 'docker.io/library/mine:v1', digest: multi.digest });
    expect(await tagImage(env, parseReference('alpine:3.20'), parseReference('localhost:5000/x'))).toEqual({
      name: 'localhost:5000/x:latest',
      digest: multi.digest,
    });
    expect(await storeNames()).toEqual(['docker.io/library/alpine:3.20', 'docker.io/library/mine:v1', 'localhost:5000/x:latest']);
    expect(await blobCount()).toBe(before);
    await expect(tagImage(env, parseReference('ghost:1'), parseReference('x:1'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(tagImage(env, parseReference('alpine:3.20'), parseReference(`x@${multi.digest}`))).rejects.toMatchObject({ code: 'USAGE' });
  });
});
