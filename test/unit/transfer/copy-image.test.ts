import { describe, expect, it } from 'vitest';
import type { Descriptor, ImageIndex } from '../../../src/media/types.js';
import { copyImage } from '../../../src/transfer/index.js';
import type { TransferEvent } from '../../../src/transfer/events.js';
import { addImage, addIndex, createMemorySource, createMemoryTarget, createStore, type MemoryStore, type TargetCall } from '../../helpers/memory-transport.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

function twoPlatforms(store: MemoryStore = createStore()) {
  const a = addImage(store, { layers: ['base', 'amd'], platform: amd64 });
  const b = addImage(store, { layers: ['base', 'arm'], platform: arm64 });
  const index = addIndex(store, [a, b]);
  store.tags.set('v1', index.digest);
  return { store, index, a, b };
}

function referencedBy(store: MemoryStore, digest: string): string[] {
  const stored = store.manifests.get(digest);
  const doc = JSON.parse(Buffer.from(stored?.bytes ?? []).toString('utf8')) as { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] };
  return [...(doc.config ? [doc.config] : []), ...(doc.layers ?? []), ...(doc.manifests ?? [])].map((d) => d.digest);
}

const firstIndex = (log: TargetCall[], op: TargetCall['op'], digest: string) => log.findIndex((c) => c.op === op && c.digest === digest);

describe('copyImage', () => {
  it('copies an index with the same bytes, so the digest is preserved, and commits its names', async () => {
    const { store, index } = twoPlatforms();
    const target = createMemoryTarget();
    const result = await copyImage(createMemorySource(store), target, index, { names: ['v1', 'latest'] });
    expect(result.digest).toBe(index.digest);
    for (const [digest, stored] of store.manifests) {
      expect(Buffer.from(target.store.manifests.get(digest)?.bytes ?? []).equals(Buffer.from(stored.bytes))).toBe(true);
    }
    expect(target.store.tags).toEqual(new Map([['v1', index.digest], ['latest', index.digest]]));
    expect(result.names).toEqual(['v1', 'latest']);
  });

  it('writes every blob before a manifest that names it, children before their index, and commits last', async () => {
    const { store, index } = twoPlatforms();
    const target = createMemoryTarget();
    await copyImage(createMemorySource(store), target, index, { names: ['v1'] });
    const { log } = target;
    const manifestWrites = log.filter((c) => c.op === 'writeManifest');
    expect(manifestWrites).toHaveLength(3);
    for (const write of manifestWrites) {
      const at = log.indexOf(write);
      for (const digest of referencedBy(store, write.digest)) {
        const done = store.manifests.has(digest) ? firstIndex(log, 'writeManifest', digest) : firstIndex(log, 'blobWritten', digest);
        expect(done).toBeGreaterThanOrEqual(0);
        expect(done).toBeLessThan(at);
      }
    }
    expect(log.at(-1)).toMatchObject({ op: 'commit', digest: index.digest, names: ['v1'] });
    expect(log.filter((c) => c.op === 'commit')).toHaveLength(1);
  });

  it('sends a layer shared by two platforms once', async () => {
    const { store, index } = twoPlatforms();
    const target = createMemoryTarget();
    const source = createMemorySource(store);
    const result = await copyImage(source, target, index, { names: [] });
    const opened = source.blobCalls.map((c) => c.digest);
    expect(new Set(opened).size).toBe(opened.length);
    // 2 configs + base + amd + arm.
    expect(opened).toHaveLength(5);
    expect(result.blobs).toHaveLength(5);
    expect(result.bytesSent).toBe(result.blobs.reduce((n, b) => n + b.size, 0));
  });

  it('writes only the chosen image manifest, as the root, when one platform is asked for', async () => {
    const { store, index, b } = twoPlatforms();
    const target = createMemoryTarget();
    const result = await copyImage(createMemorySource(store), target, index, { names: ['arm'], platforms: [arm64] });
    expect(result.digest).toBe(b.digest);
    expect([...target.store.manifests.keys()]).toEqual([b.digest]);
    expect(target.store.tags.get('arm')).toBe(b.digest);
    expect(result.blobs).toHaveLength(3);
  });

  it('writes a new index holding only the chosen platforms and reports its new digest', async () => {
    const store = createStore();
    const children = [amd64, arm64, { os: 'linux', architecture: 's390x' }].map((platform, i) => addImage(store, { layers: [`l${i}`], platform }));
    const index = addIndex(store, children);
    const target = createMemoryTarget();
    const result = await copyImage(createMemorySource(store), target, index, { names: ['two'], platforms: [amd64, arm64] });
    expect(result.digest).not.toBe(index.digest);
    const written = target.store.manifests.get(result.digest);
    const doc = JSON.parse(Buffer.from(written?.bytes ?? []).toString('utf8')) as ImageIndex;
    expect(doc.manifests.map((m) => m.digest)).toEqual([children[0]?.digest, children[1]?.digest]);
    expect(target.store.manifests.has(children[2]?.digest ?? '')).toBe(false);
    expect(target.store.tags.get('two')).toBe(result.digest);
  });

  it('skips blobs the target has, mounts what it can and copies the rest, and says which', async () => {
    const store = createStore();
    const image = addImage(store, { layers: ['here', 'mountable', 'new'] });
    const blobs = configAndLayers(store, image);
    const [config, here, mountable, fresh] = [at(blobs, 0), at(blobs, 1), at(blobs, 2), at(blobs, 3)];
    const targetStore = createStore();
    targetStore.blobs.set(here.digest, store.blobs.get(here.digest) as Uint8Array);
    const otherRepo = createStore();
    otherRepo.blobs.set(mountable.digest, store.blobs.get(mountable.digest) as Uint8Array);
    const target = createMemoryTarget({ store: targetStore, mount: { repository: 'team/app', store: otherRepo } });
    const events: TransferEvent[] = [];
    const result = await copyImage(createMemorySource(store, { origin: { registry: 'r.example', repository: 'team/app' } }), target, image, {
      names: [],
      onEvent: (e) => events.push(e),
    });
    const action = (d: Descriptor) => result.blobs.find((b) => b.digest === d.digest);
    expect(action(here)).toMatchObject({ action: 'skipped', bytesSent: 0 });
    expect(action(mountable)).toEqual({ digest: mountable.digest, size: mountable.size, action: 'mounted', bytesSent: 0, mountedFrom: 'team/app' });
    expect(action(fresh)).toMatchObject({ action: 'copied', bytesSent: fresh.size });
    expect(action(config)).toMatchObject({ action: 'copied', bytesSent: config.size });
    expect(result.bytesSent).toBe(fresh.size + config.size);
    expect(result.bytesSkipped).toBe(here.size + mountable.size);
    expect(target.received.has(here.digest) || target.received.has(mountable.digest)).toBe(false);
    const done = events.filter((e) => e.type === 'blob-done');
    expect(done.find((e) => e.blob.digest === mountable.digest)).toMatchObject({ action: 'mounted', mountedFrom: 'team/app' });
  });

  it('asks a target to mount the blobs of a source without a repository (it may know where they are), and copies what it cannot', async () => {
    const store = createStore();
    const image = addImage(store, { layers: ['x'] });
    const target = createMemoryTarget({ mount: { repository: 'team/app', store } });
    const result = await copyImage(createMemorySource(store), target, image, { names: [] });
    expect(target.log.filter((c) => c.op === 'tryMount')).toHaveLength(2);
    expect(result.blobs.every((b) => b.action === 'copied')).toBe(true);
  });

  it('reports the repository a target says it mounted from', async () => {
    const store = createStore();
    const image = addImage(store, { layers: ['x'] });
    const target = createMemoryTarget();
    target.tryMount = async (desc) => {
      // A mount links content the registry already holds.
      target.store.blobs.set(desc.digest, store.blobs.get(desc.digest) as Uint8Array);
      return 'team/elsewhere';
    };
    const result = await copyImage(createMemorySource(store), target, image, { names: [] });
    expect(result.blobs.map((b) => [b.action, b.mountedFrom])).toEqual([
      ['mounted', 'team/elsewhere'],
      ['mounted', 'team/elsewhere'],
    ]);
  });

  it('skips manifests the target already has and still commits the names', async () => {
    const { store, index } = twoPlatforms();
    const first = createMemoryTarget();
    await copyImage(createMemorySource(store), first, index, { names: ['v1'] });
    const again = createMemoryTarget({ store: first.store });
    const result = await copyImage(createMemorySource(store), again, index, { names: ['v2'] });
    expect(result.manifests.every((m) => m.action === 'skipped')).toBe(true);
    expect(result.blobs.every((b) => b.action === 'skipped')).toBe(true);
    expect(result.bytesSent).toBe(0);
    expect(again.log.some((c) => c.op === 'writeManifest' || c.op === 'writeBlob')).toBe(false);
    expect(again.store.tags.get('v2')).toBe(index.digest);
  });

  it('commits the names the source lists for the root when none are given', async () => {
    const { store, index } = twoPlatforms();
    store.tags.set('stable', index.digest);
    const target = createMemoryTarget();
    const result = await copyImage(createMemorySource(store), target, index);
    expect(result.names.sort()).toEqual(['stable', 'v1']);
    expect(target.store.tags.get('stable')).toBe(index.digest);
  });

  it('reports the plan, waiting, progress, verifying, done, manifests and the commit, in that order per blob', async () => {
    const store = createStore();
    const image = addImage(store, { layers: ['one'], layerSize: 3000 });
    const events: TransferEvent[] = [];
    await copyImage(createMemorySource(store), createMemoryTarget(), image, { names: ['t'], onEvent: (e) => events.push(e) });
    expect(events[0]).toMatchObject({ type: 'plan', image: 'memory:source', totalBytes: sizes(store, image) });
    const layer = at(configAndLayers(store, image), 1);
    const mine = events.filter((e) => 'blob' in e && e.blob.digest === layer.digest).map((e) => e.type);
    expect(mine[0]).toBe('blob-waiting');
    expect(mine.at(-1)).toBe('blob-done');
    expect(mine.indexOf('blob-verifying')).toBeGreaterThan(mine.lastIndexOf('blob-progress'));
    const progress = events.filter((e) => e.type === 'blob-progress' && e.blob.digest === layer.digest);
    expect(progress.at(-1)).toMatchObject({ bytes: 3000, resumedFrom: 0 });
    expect(events.at(-2)).toMatchObject({ type: 'manifest-done', action: 'copied' });
    expect(events.at(-1)).toMatchObject({ type: 'committed', names: ['t'] });
  });

  it('refuses a concurrency that is not a positive integer', async () => {
    const store = createStore();
    const image = addImage(store, { layers: ['x'] });
    await expect(copyImage(createMemorySource(store), createMemoryTarget(), image, { names: [], concurrency: 0 })).rejects.toMatchObject({ code: 'USAGE' });
  });
});

function configAndLayers(store: MemoryStore, image: Descriptor): Descriptor[] {
  const doc = JSON.parse(Buffer.from(store.manifests.get(image.digest)?.bytes ?? []).toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
  return [doc.config, ...doc.layers];
}

function at(list: Descriptor[], i: number): Descriptor {
  const d = list[i];
  if (d === undefined) throw new Error(`fixture has no entry ${i}`);
  return d;
}

function sizes(store: MemoryStore, image: Descriptor): number {
  return configAndLayers(store, image).reduce((n, d) => n + d.size, 0);
}
