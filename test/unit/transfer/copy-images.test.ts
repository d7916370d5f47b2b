import { describe, expect, it } from 'vitest';
import { copyImages } from '../../../src/transfer/index.js';
import { addImage, addIndex, createMemorySource, createMemoryTarget, createStore } from '../../helpers/memory-transport.js';

describe('copyImages', () => {
  it('moves blobs and manifests several roots share once, and commits each root after its own content', async () => {
    const store = createStore();
    const amd = addImage(store, { layers: ['base', 'amd'], platform: { os: 'linux', architecture: 'amd64' } });
    const arm = addImage(store, { layers: ['base', 'arm'], platform: { os: 'linux', architecture: 'arm64' } });
    const index = addIndex(store, [amd, arm]);
    const older = addImage(store, { layers: ['base', 'old'] });
    const source = createMemorySource(store);
    const target = createMemoryTarget();
    const result = await copyImages(source, target, [
      { root: index, names: ['1.1', 'latest'] },
      { root: amd, names: ['1.1-amd64'] },
      { root: older, names: ['1.0'] },
    ]);

    const opened = source.blobCalls.map((c) => c.digest);
    expect(new Set(opened).size).toBe(opened.length);
    expect(result.blobs).toHaveLength(opened.length);
    expect(target.log.filter((c) => c.op === 'writeManifest' && c.digest === amd.digest)).toHaveLength(1);
    expect(result.bytesSent).toBe(result.blobs.reduce((n, b) => n + b.size, 0));

    for (const request of [index, amd, older]) {
      const commit = target.log.findIndex((c) => c.op === 'commit' && c.digest === request.digest);
      const written = target.log.findIndex((c) => c.op === 'writeManifest' && c.digest === request.digest);
      expect(written).toBeGreaterThanOrEqual(0);
      expect(commit).toBeGreaterThan(written);
    }
    expect(target.store.tags).toEqual(
      new Map([
        ['1.1', index.digest],
        ['latest', index.digest],
        ['1.1-amd64', amd.digest],
        ['1.0', older.digest],
      ]),
    );

    const [forIndex, forAmd, forOlder] = result.images;
    expect(forIndex?.digest).toBe(index.digest);
    expect(forIndex?.blobs).toHaveLength(5);
    expect(forAmd?.blobs.map((b) => b.digest).every((d) => forIndex?.blobs.some((b) => b.digest === d))).toBe(true);
    expect(forOlder?.names).toEqual(['1.0']);
    expect(forOlder?.manifests).toEqual([{ digest: older.digest, action: 'copied' }]);
  });

  it('fails with the failed root\'s error, and never writes or commits that root', async () => {
    const store = createStore();
    const good = addImage(store, { layers: ['good'] });
    const bad = addImage(store, { layers: ['bad'] });
    const badLayer = (JSON.parse(Buffer.from(store.manifests.get(bad.digest)?.bytes ?? []).toString('utf8')) as { layers: Array<{ digest: string }> }).layers[0];
    store.blobs.delete(badLayer?.digest ?? '');
    const target = createMemoryTarget();
    const pending = copyImages(createMemorySource(store), target, [
      { root: good, names: ['good'] },
      { root: bad, names: ['bad'] },
    ]);
    await expect(pending).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
    expect(target.store.tags.has('bad')).toBe(false);
    expect(target.store.manifests.has(bad.digest)).toBe(false);
  });

  it('takes a wrong absentAtTarget hint safely: what the target has is found and skipped, nothing is missing', async () => {
    const store = createStore();
    const image = addImage(store, { layers: ['x', 'y'] });
    const target = createMemoryTarget();
    await copyImages(createMemorySource(store), target, [{ root: image, names: ['v1'] }]);
    const sent = [...target.received.values()].reduce((n, b) => n + b, 0);
    const before = target.log.length;
    // The hint says the root is missing, but the target has it and everything below it.
    const again = await copyImages(createMemorySource(store), target, [{ root: image, names: ['v2'] }], { absentAtTarget: [image.digest] });
    const calls = target.log.slice(before);
    // Taken at its word: the root is not asked about, so its blobs are, and found.
    expect(calls.filter((c) => c.op === 'hasManifest' && c.digest === image.digest)).toEqual([]);
    expect(again.blobs.every((b) => b.action === 'skipped')).toBe(true);
    expect([...target.received.values()].reduce((n, b) => n + b, 0)).toBe(sent);
    expect(target.store.tags.get('v2')).toBe(image.digest);
  });

  it('leaves a tagged root to the commit of a target whose commit stores it, and writes by digest what the commit cannot store', async () => {
    const store = createStore();
    const amd = addImage(store, { layers: ['a'], platform: { os: 'linux', architecture: 'amd64' } });
    const arm = addImage(store, { layers: ['b'], platform: { os: 'linux', architecture: 'arm64' } });
    const index = addIndex(store, [amd, arm]);
    const single = addImage(store, { layers: ['c'] });
    const untagged = addImage(store, { layers: ['d'] });
    const target = createMemoryTarget({ commitStoresRoot: true });
    await copyImages(createMemorySource(store), target, [
      { root: index, names: ['multi'] },
      // Also a child of the index: it must be stored before the index is, so by digest.
      { root: amd, names: ['amd'] },
      { root: single, names: ['one', 'latest'] },
      { root: untagged, names: [] },
    ]);
    const writtenByDigest = target.log.filter((c) => c.op === 'writeManifest').map((c) => c.digest);
    expect(writtenByDigest.sort()).toEqual([amd.digest, arm.digest, untagged.digest].sort());
    expect(target.store.tags).toEqual(
      new Map([
        ['multi', index.digest],
        ['amd', amd.digest],
        ['one', single.digest],
        ['latest', single.digest],
      ]),
    );
    for (const root of [index, single]) expect(target.store.manifests.has(root.digest)).toBe(true);
  });

  it('writes by digest a root that one request names and another leaves nameless', async () => {
    const store = createStore();
    const single = addImage(store, { layers: ['c'] });
    const target = createMemoryTarget({ commitStoresRoot: true });
    await copyImages(createMemorySource(store), target, [
      { root: single, names: [] },
      { root: single, names: ['one'] },
    ]);
    expect(target.log.filter((c) => c.op === 'writeManifest').map((c) => c.digest)).toEqual([single.digest]);
    expect(target.store.tags.get('one')).toBe(single.digest);
  });

  it('reports a root left to the commit as done once the commit has stored it, once', async () => {
    const store = createStore();
    const single = addImage(store, { layers: ['c'] });
    const target = createMemoryTarget({ commitStoresRoot: true });
    const timeline: string[] = [];
    const commit = target.commit.bind(target);
    target.commit = async (root, names, options) => {
      await commit(root, names, options);
      timeline.push(`stored ${root.digest}`);
    };
    await copyImages(createMemorySource(store), target, [{ root: single, names: ['one'] }], {
      onEvent: (e) => {
        if (e.type === 'manifest-done') timeline.push(`done ${e.manifest.digest} ${e.action}`);
      },
    });
    expect(timeline).toEqual([`stored ${single.digest}`, `done ${single.digest} copied`]);
  });
});
