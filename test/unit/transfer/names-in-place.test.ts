import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { copyImage, copyImages } from '../../../src/transfer/index.js';
import { RegistryError } from '../../../src/errors/index.js';
import { addImage, addIndex, createMemorySource, createMemoryTarget, createStore } from '../../helpers/memory-transport.js';

const amd64 = { os: 'linux', architecture: 'amd64' };

function pushed() {
  const store = createStore();
  const root = addImage(store, { layers: ['a', 'b'], platform: amd64 });
  return { store, root };
}

describe('names already pointing at the root', () => {
  it('are not written again: a re-push asks and writes nothing', async () => {
    const { store, root } = pushed();
    const first = createMemoryTarget({ namesAt: true, commitStoresRoot: true });
    await copyImage(createMemorySource(store), first, root, { names: ['v1'] });
    expect(first.log.filter((c) => c.op === 'commit')).toHaveLength(1);

    const again = createMemoryTarget({ store: first.store, namesAt: true, commitStoresRoot: true });
    const result = await copyImage(createMemorySource(store), again, root, { names: ['v1'] });
    expect(again.log.map((c) => c.op).sort()).toEqual(['hasManifest', 'namesAt']);
    expect(result.names).toEqual(['v1']);
    expect(again.store.tags.get('v1')).toBe(root.digest);
  });

  it('leave the other names to the commit', async () => {
    const { store, root } = pushed();
    const target = createMemoryTarget({ namesAt: true });
    await copyImage(createMemorySource(store), target, root, { names: ['v1'] });
    const other = addImage(store, { layers: ['c'], platform: amd64 });
    await copyImage(createMemorySource(store), target, other, { names: ['stable'] });

    target.log.length = 0;
    await copyImage(createMemorySource(store), target, root, { names: ['v1', 'stable', 'new'] });
    expect(target.log.filter((c) => c.op === 'commit')).toEqual([{ op: 'commit', digest: root.digest, names: ['stable', 'new'] }]);
    expect(target.store.tags.get('stable')).toBe(root.digest);
    expect(target.store.tags.get('new')).toBe(root.digest);
  });

  it('are committed anyway when the target turns out to lack the root', async () => {
    const { store, root } = pushed();
    const targetStore = createStore();
    // A tag left pointing at a manifest the target no longer has (deleted, garbage-collected).
    targetStore.tags.set('v1', root.digest);
    const target = createMemoryTarget({ store: targetStore, namesAt: true, commitStoresRoot: true });
    await copyImage(createMemorySource(store), target, root, { names: ['v1'] });
    expect(target.log.filter((c) => c.op === 'commit')).toEqual([{ op: 'commit', digest: root.digest, names: ['v1'] }]);
    expect(target.store.manifests.has(root.digest)).toBe(true);
  });

  it('are not asked about when the caller says it compared them (mirror)', async () => {
    const { store, root } = pushed();
    const target = createMemoryTarget({ namesAt: true });
    await copyImages(createMemorySource(store), target, [{ root, names: ['v1'] }], { namesChecked: true });
    expect(target.log.some((c) => c.op === 'namesAt')).toBe(false);
    expect(target.store.tags.get('v1')).toBe(root.digest);
  });

  it('are asked about, with the root, while the plan still reads the source', async () => {
    const { store, root } = pushed();
    const target = createMemoryTarget({ namesAt: true });
    const source = createMemorySource(store);
    const read = source.manifest.bind(source);
    const askedBeforeRead: string[] = [];
    source.manifest = async (desc, opts) => {
      await nextMacrotask();
      if (desc.digest === root.digest) askedBeforeRead.push(...target.log.map((c) => c.op));
      return read(desc, opts);
    };
    await copyImage(source, target, root, { names: ['v1'] });
    expect(askedBeforeRead.sort()).toEqual(['hasManifest', 'namesAt']);
  });

  it('with a platform filter, are asked about for the root actually written, not the one requested', async () => {
    const store = createStore();
    const amd = addImage(store, { layers: ['a'], platform: amd64 });
    const arm = addImage(store, { layers: ['b'], platform: { os: 'linux', architecture: 'arm64' } });
    const index = addIndex(store, [amd, arm]);
    const target = createMemoryTarget({ namesAt: true });
    await copyImage(createMemorySource(store), target, index, { names: ['v1'], platforms: [amd64] });
    expect(target.log.filter((c) => c.op === 'namesAt').map((c) => c.digest)).toEqual([amd.digest]);
    expect(target.log.some((c) => c.digest === index.digest)).toBe(false);
  });

  it('leaves nothing in flight when a check fails: the run stops, and no call reaches the target after it returns', async () => {
    const store = createStore();
    const index = addIndex(store, [addImage(store, { layers: ['a'], platform: amd64 }), addImage(store, { layers: ['b'], platform: { os: 'linux', architecture: 'arm64' } })]);
    const target = createMemoryTarget();
    const hasManifest = target.hasManifest.bind(target);
    target.hasManifest = async (desc, opts) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return hasManifest(desc, opts);
    };
    target.namesAt = async () => {
      throw new RegistryError({ status: 403, method: 'HEAD', url: 'memory://tag', entries: [{ code: 'DENIED' }] });
    };
    const err = await copyImage(createMemorySource(store), target, index, { names: ['v1'], retryDelayMs: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ status: 403 });
    const callsAtReturn = target.log.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(target.log.length).toBe(callsAtReturn);
  });
});
