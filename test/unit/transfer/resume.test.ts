import { describe, expect, it } from 'vitest';
import type { Descriptor } from '../../../src/media/types.js';
import { copyImage } from '../../../src/transfer/index.js';
import type { TransferEvent } from '../../../src/transfer/events.js';
import { addImage, createMemorySource, createMemoryTarget, createStore, type MemoryStore } from '../../helpers/memory-transport.js';

function oneLayer(): { store: MemoryStore; image: Descriptor; layer: Descriptor } {
  const store = createStore();
  const image = addImage(store, { layers: ['big'], layerSize: 10_000 });
  const doc = JSON.parse(Buffer.from(store.manifests.get(image.digest)?.bytes ?? []).toString('utf8')) as { layers: Descriptor[] };
  const layer = doc.layers[0];
  if (layer === undefined) throw new Error('fixture has no layer');
  return { store, image, layer };
}

describe('resuming a blob', () => {
  it('asks the source only for the bytes past what the target has staged, and sends only those', async () => {
    const { store, image, layer } = oneLayer();
    const bytes = store.blobs.get(layer.digest) as Uint8Array;
    const target = createMemoryTarget({ staged: new Map([[layer.digest, bytes.slice(0, 6_000)]]) });
    const source = createMemorySource(store);
    const events: TransferEvent[] = [];
    const result = await copyImage(source, target, image, { names: ['t'], onEvent: (e) => events.push(e) });
    expect(source.blobCalls.find((c) => c.digest === layer.digest)).toEqual({ digest: layer.digest, from: 6_000 });
    expect(target.received.get(layer.digest)).toBe(4_000);
    expect(target.log.find((c) => c.op === 'writeBlob' && c.digest === layer.digest)).toMatchObject({ from: 6_000 });
    expect(result.blobs.find((b) => b.digest === layer.digest)).toMatchObject({ action: 'copied', bytesSent: 4_000 });
    const progress = events.filter((e) => e.type === 'blob-progress' && e.blob.digest === layer.digest);
    expect(progress.every((e) => e.type === 'blob-progress' && e.resumedFrom === 6_000)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ bytes: 10_000 });
    expect(target.store.blobs.get(layer.digest)).toEqual(bytes);
    expect(target.staged.has(layer.digest)).toBe(false);
  });

  it('restarts the blob at 0, and tells the target so, when the source cannot seek', async () => {
    const { store, image, layer } = oneLayer();
    const bytes = store.blobs.get(layer.digest) as Uint8Array;
    const target = createMemoryTarget({ staged: new Map([[layer.digest, bytes.slice(0, 6_000)]]) });
    const source = createMemorySource(store, { seekable: false });
    const result = await copyImage(source, target, image, { names: ['t'] });
    expect(source.blobCalls.find((c) => c.digest === layer.digest)?.from).toBe(6_000);
    expect(target.log.find((c) => c.op === 'writeBlob' && c.digest === layer.digest)).toMatchObject({ from: 0 });
    expect(target.received.get(layer.digest)).toBe(10_000);
    expect(result.blobs.find((b) => b.digest === layer.digest)).toMatchObject({ action: 'copied', bytesSent: 10_000 });
    expect(target.store.blobs.get(layer.digest)).toEqual(bytes);
  });

  it('resumes where an aborted run stopped when the same copy runs again', async () => {
    const { store, image, layer } = oneLayer();
    const target = createMemoryTarget();
    const controller = new AbortController();
    const stalling = createMemorySource(store, { fault: (d) => (d.digest === layer.digest ? { kind: 'stall', after: 3_072 } : undefined) });
    const first = copyImage(stalling, target, image, { names: ['t'], signal: controller.signal });
    await untilStaged(target.staged, layer.digest, 3_072);
    controller.abort();
    await expect(first).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(target.staged.get(layer.digest)?.byteLength).toBe(3_072);

    const source = createMemorySource(store);
    const result = await copyImage(source, target, image, { names: ['t'] });
    expect(source.blobCalls.find((c) => c.digest === layer.digest)?.from).toBe(3_072);
    expect(result.blobs.find((b) => b.digest === layer.digest)?.bytesSent).toBe(10_000 - 3_072);
    expect(target.store.tags.get('t')).toBe(image.digest);
  });
});

// Bounded: the stalled body delivers its bytes within a few ticks or the test's own timeout ends it.
async function untilStaged(staged: Map<string, Uint8Array>, digest: string, bytes: number): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if ((staged.get(digest)?.byteLength ?? 0) >= bytes) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never saw ${bytes} bytes staged for ${digest}`);
}
