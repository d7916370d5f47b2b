import { describe, expect, it } from 'vitest';
import { copyImage, copyImages } from '../../../src/transfer/index.js';
import type { TransferEvent } from '../../../src/transfer/events.js';
import { addImage, addIndex, createMemorySource, createMemoryTarget, createStore, type MemoryStore } from '../../helpers/memory-transport.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

function copyContent(from: MemoryStore, to: MemoryStore, manifestDigest: string): void {
  const stored = from.manifests.get(manifestDigest);
  if (stored === undefined) throw new Error(`no manifest ${manifestDigest}`);
  const doc = JSON.parse(Buffer.from(stored.bytes).toString('utf8')) as { config: { digest: string }; layers: Array<{ digest: string }> };
  for (const d of [doc.config, ...doc.layers]) to.blobs.set(d.digest, from.blobs.get(d.digest) as Uint8Array);
  to.manifests.set(manifestDigest, stored);
}

describe('content the target already has', () => {
  it('costs one manifest check when the whole image is there, and still commits the new names', async () => {
    const store = createStore();
    const index = addIndex(store, [addImage(store, { layers: ['a', 'b'], platform: amd64 }), addImage(store, { layers: ['a', 'c'], platform: arm64 })]);
    const first = createMemoryTarget();
    await copyImage(createMemorySource(store), first, index, { names: ['v1'] });

    const again = createMemoryTarget({ store: first.store });
    const events: TransferEvent[] = [];
    const result = await copyImage(createMemorySource(store), again, index, { names: ['v2'], onEvent: (e) => events.push(e) });
    expect(again.log.map((c) => c.op)).toEqual(['hasManifest', 'commit']);
    expect(result.blobs.every((b) => b.action === 'skipped' && b.bytesSent === 0)).toBe(true);
    expect(result.bytesSkipped).toBe(result.blobs.reduce((n, b) => n + b.size, 0));
    expect(result.manifests.every((m) => m.action === 'skipped')).toBe(true);
    expect(events.filter((e) => e.type === 'blob-done')).toHaveLength(result.blobs.length);
    expect(again.store.tags.get('v2')).toBe(index.digest);
  });

  it('copies only the platform the target lacks when the index is new', async () => {
    const store = createStore();
    const amd = addImage(store, { layers: ['shared', 'amd'], platform: amd64 });
    const arm = addImage(store, { layers: ['shared', 'arm'], platform: arm64 });
    const index = addIndex(store, [amd, arm]);
    const targetStore = createStore();
    copyContent(store, targetStore, amd.digest);
    const target = createMemoryTarget({ store: targetStore });
    const source = createMemorySource(store);
    const result = await copyImage(source, target, index, { names: ['v1'] });
    expect(target.log.some((c) => c.op === 'hasManifest' && c.digest === amd.digest)).toBe(true);
    // The arm image's config and its own layer move; the shared layer is checked (arm needs it) and found.
    const copied = result.blobs.filter((b) => b.action === 'copied');
    expect(copied).toHaveLength(2);
    expect(source.blobCalls).toHaveLength(2);
    expect(result.manifests).toEqual([
      { digest: amd.digest, action: 'skipped' },
      { digest: arm.digest, action: 'copied' },
      { digest: index.digest, action: 'copied' },
    ]);
    expect(target.store.tags.get('v1')).toBe(index.digest);
  });

  it('writes a manifest it found missing even when a parent the target has names it', async () => {
    const store = createStore();
    const child = addImage(store, { layers: ['x'], platform: amd64 });
    const index = addIndex(store, [child]);
    // An inconsistent target: the index is there, its child is not.
    const targetStore = createStore();
    targetStore.manifests.set(index.digest, store.manifests.get(index.digest) as { mediaType: string; bytes: Uint8Array });
    const target = createMemoryTarget({ store: targetStore });
    const result = await copyImages(createMemorySource(store), target, [
      { root: index, names: ['all'] },
      { root: child, names: ['amd64'] },
    ]);
    expect(target.store.manifests.has(child.digest)).toBe(true);
    expect(result.manifests.find((m) => m.digest === child.digest)?.action).toBe('copied');
    expect(target.store.tags.get('amd64')).toBe(child.digest);
  });
});
