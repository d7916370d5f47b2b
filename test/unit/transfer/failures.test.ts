import { describe, expect, it } from 'vitest';
import { GantryError, RegistryError } from '../../../src/errors/index.js';
import type { Descriptor } from '../../../src/media/types.js';
import { copyImage } from '../../../src/transfer/index.js';
import type { TransferEvent } from '../../../src/transfer/events.js';
import { addImage, addIndex, createMemorySource, createMemoryTarget, createStore, type MemoryStore } from '../../helpers/memory-transport.js';

const fast = { retryDelayMs: 1 };
/** Bytes from a registry may be corrupted in transit, so a retry may help; a local file's bytes may not. */
const REMOTE = { registry: 'registry.test' };

function image(layers = ['a', 'b', 'c']): { store: MemoryStore; root: Descriptor; layers: Descriptor[] } {
  const store = createStore();
  const root = addImage(store, { layers });
  const doc = JSON.parse(Buffer.from(store.manifests.get(root.digest)?.bytes ?? []).toString('utf8')) as { layers: Descriptor[] };
  return { store, root, layers: doc.layers };
}

function layerAt(layers: Descriptor[], i: number): Descriptor {
  const layer = layers[i];
  if (layer === undefined) throw new Error(`no layer ${i}`);
  return layer;
}

describe('copy failures', () => {
  it('retries a blob whose bytes arrived corrupt, and succeeds when the next attempt is clean', async () => {
    const { store, root, layers } = image();
    const bad = layerAt(layers, 1);
    const source = createMemorySource(store, { origin: REMOTE, fault: (d, call) => (d.digest === bad.digest && call === 1 ? { kind: 'corrupt' } : undefined) });
    const target = createMemoryTarget();
    const events: TransferEvent[] = [];
    const result = await copyImage(source, target, root, { ...fast, names: ['t'], onEvent: (e) => events.push(e) });
    expect(source.blobCalls.filter((c) => c.digest === bad.digest)).toHaveLength(2);
    const retry = events.find((e) => e.type === 'blob-retry');
    expect(retry).toMatchObject({ blob: { digest: bad.digest }, attempt: 1, error: { code: 'DIGEST_MISMATCH' } });
    expect(result.blobs.find((b) => b.digest === bad.digest)).toMatchObject({ action: 'copied', bytesSent: bad.size });
    expect(target.store.blobs.get(bad.digest)).toEqual(store.blobs.get(bad.digest));
    expect(target.store.tags.get('t')).toBe(root.digest);
  });

  it('fails with DIGEST_MISMATCH when every attempt is corrupt, and writes no manifest and no tag', async () => {
    const { store, root, layers } = image();
    const bad = layerAt(layers, 0);
    const source = createMemorySource(store, { origin: REMOTE, fault: (d) => (d.digest === bad.digest ? { kind: 'corrupt' } : undefined) });
    const target = createMemoryTarget();
    const pending = copyImage(source, target, root, { ...fast, names: ['t'], attempts: 3 });
    await expect(pending).rejects.toSatisfy((err) => err instanceof GantryError && err.code === 'DIGEST_MISMATCH' && err.exitCode === 5);
    expect(source.blobCalls.filter((c) => c.digest === bad.digest)).toHaveLength(3);
    expect(target.log.some((c) => c.op === 'writeManifest' || c.op === 'commit')).toBe(false);
    expect(target.store.blobs.has(bad.digest)).toBe(false);
    expect(target.staged.has(bad.digest)).toBe(false);
    expect(target.store.tags.size).toBe(0);
  });

  it('fails with SIZE_MISMATCH when a blob keeps arriving short', async () => {
    const { store, root, layers } = image();
    const short = layerAt(layers, 2);
    const source = createMemorySource(store, { origin: REMOTE, fault: (d) => (d.digest === short.digest ? { kind: 'truncate', bytes: 10 } : undefined) });
    const target = createMemoryTarget();
    await expect(copyImage(source, target, root, { ...fast, names: ['t'], attempts: 2 })).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
    expect(source.blobCalls.filter((c) => c.digest === short.digest)).toHaveLength(2);
    expect(target.store.tags.size).toBe(0);
  });

  it('does not retry a corrupt blob read from a local source, and says the source holds it', async () => {
    const { store, root, layers } = image();
    const bad = layerAt(layers, 0);
    const source = createMemorySource(store, { description: 'oci:/work/layout:1', fault: (d) => (d.digest === bad.digest ? { kind: 'corrupt' } : undefined) });
    const target = createMemoryTarget();
    const events: TransferEvent[] = [];
    const err = await copyImage(source, target, root, { ...fast, names: ['t'], attempts: 3, onEvent: (e) => events.push(e) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'DIGEST_MISMATCH', exitCode: 5, message: expect.stringContaining('oci:/work/layout:1'), hint: expect.stringContaining('corrupt') });
    expect((err as GantryError).hint).not.toMatch(/registry operator/);
    expect(source.blobCalls.filter((c) => c.digest === bad.digest)).toHaveLength(1);
    expect(events.some((e) => e.type === 'blob-retry')).toBe(false);
    expect(target.store.tags.size).toBe(0);
  });

  it('does not retry a local blob file refused as it is opened (its size is not the descriptor\'s)', async () => {
    const { store, root, layers } = image();
    const bad = layerAt(layers, 2);
    const source = createMemorySource(store, { description: 'oci:/work/layout:1' });
    const open = source.blob.bind(source);
    let opens = 0;
    source.blob = async (desc, opts) => {
      if (desc.digest !== bad.digest) return open(desc, opts);
      opens++;
      throw new GantryError('SIZE_MISMATCH', `blob ${desc.digest} is ${desc.size + 10} bytes, not ${desc.size}`);
    };
    const err = await copyImage(source, createMemoryTarget(), root, { ...fast, names: ['t'], attempts: 3 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'SIZE_MISMATCH', message: expect.stringContaining('oci:/work/layout:1') });
    expect(opens).toBe(1);
  });

  it('retries, for a local source too, a registry refusing what it received (bytes change in transit)', async () => {
    const { store, root, layers } = image();
    const bad = layerAt(layers, 0);
    const refusal = new RegistryError({ status: 400, method: 'PUT', url: 'https://registry.test/v2/x/blobs/uploads/1', entries: [{ code: 'DIGEST_INVALID' }] });
    const target = createMemoryTarget({
      writeFault: (d, call) => (d.digest === bad.digest && call === 1 ? new GantryError('DIGEST_MISMATCH', 'the registry refused it', { cause: refusal }) : undefined),
    });
    await copyImage(createMemorySource(store), target, root, { ...fast, names: ['t'] });
    expect(target.log.filter((c) => c.op === 'writeBlob' && c.digest === bad.digest)).toHaveLength(2);
    expect(target.store.tags.get('t')).toBe(root.digest);
  });

  it('retries, for a local source too, a check that failed over a staged prefix the source did not send', async () => {
    const { store, root, layers } = image();
    const bad = layerAt(layers, 1);
    // An earlier run left junk staged for this blob; the target resumes after it, and its check fails.
    const target = createMemoryTarget({ staged: new Map([[bad.digest, new Uint8Array(3).fill(0x21)]]) });
    const source = createMemorySource(store);
    await copyImage(source, target, root, { ...fast, names: ['t'] });
    expect(source.blobCalls.filter((c) => c.digest === bad.digest).map((c) => c.from)).toEqual([3, 0]);
    expect(target.store.blobs.get(bad.digest)).toEqual(store.blobs.get(bad.digest));
  });

  it('does not retry a blob the source does not have (404)', async () => {
    const { store, root, layers } = image();
    const missing = layerAt(layers, 0);
    store.blobs.delete(missing.digest);
    const source = createMemorySource(store);
    const target = createMemoryTarget();
    await expect(copyImage(source, target, root, { ...fast, names: ['t'] })).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
    expect(source.blobCalls.filter((c) => c.digest === missing.digest)).toHaveLength(1);
    expect(target.log.some((c) => c.op === 'writeManifest' || c.op === 'commit')).toBe(false);
  });

  it('does not retry a denied write (403)', async () => {
    const { store, root } = image(['a']);
    const denied = new RegistryError({ status: 403, method: 'POST', url: 'memory://upload', entries: [{ code: 'DENIED' }] });
    const target = createMemoryTarget({ writeFault: () => denied });
    await expect(copyImage(createMemorySource(store), target, root, { ...fast, names: [] })).rejects.toBe(denied);
    const writes = target.log.filter((c) => c.op === 'writeBlob').map((c) => c.digest);
    expect(writes.length).toBeGreaterThan(0);
    expect(new Set(writes).size).toBe(writes.length);
  });

  it('retries a server error, then gives up after the attempts with its code', async () => {
    const { store, root, layers } = image(['a']);
    const layer = layerAt(layers, 0);
    const unavailable = new RegistryError({ status: 503, method: 'PUT', url: 'memory://upload', entries: [] });
    const target = createMemoryTarget({ writeFault: (d) => (d.digest === layer.digest ? unavailable : undefined) });
    const pending = copyImage(createMemorySource(store), target, root, { ...fast, names: [], attempts: 4 });
    await expect(pending).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
    expect(target.log.filter((c) => c.op === 'writeBlob' && c.digest === layer.digest)).toHaveLength(4);
  });

  it('asks about no other blob once a check has failed for good (a HEAD denied)', async () => {
    const { store, root } = image(['a', 'b', 'c', 'd']);
    const target = createMemoryTarget();
    const has = target.hasBlob.bind(target);
    const denied = new RegistryError({ status: 403, method: 'HEAD', url: 'memory://blob', entries: [{ code: 'DENIED' }] });
    let asked = 0;
    target.hasBlob = async (desc, options) => {
      if (++asked === 1) throw denied;
      return has(desc, options);
    };
    await expect(copyImage(createMemorySource(store), target, root, { ...fast, names: ['t'], concurrency: 1 })).rejects.toBe(denied);
    expect(asked).toBe(1);
  });

  it('starts no new blob once one has failed for good, and lets the ones in flight settle', async () => {
    const { store, root, layers } = image(['a', 'b', 'c', 'd', 'e']);
    const first = layerAt(layers, 0);
    store.blobs.delete(first.digest);
    const source = createMemorySource(store);
    const target = createMemoryTarget();
    await expect(copyImage(source, target, root, { ...fast, names: ['t'], concurrency: 1 })).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
    // Plan order is config, then layers: the config went first, the missing layer failed, nothing after it started.
    expect(source.blobCalls.map((c) => c.digest)).toHaveLength(2);
    expect(source.blobCalls[1]?.digest).toBe(first.digest);
  });

  it('writes no index when one platform failed, even though the other platform is complete', async () => {
    const store = createStore();
    const good = addImage(store, { layers: ['good'], platform: { os: 'linux', architecture: 'amd64' } });
    const bad = addImage(store, { layers: ['bad'], platform: { os: 'linux', architecture: 'arm64' } });
    const index = addIndex(store, [good, bad]);
    const badLayer = (JSON.parse(Buffer.from(store.manifests.get(bad.digest)?.bytes ?? []).toString('utf8')) as { layers: Descriptor[] }).layers[0];
    const source = createMemorySource(store, { fault: (d) => (d.digest === badLayer?.digest ? { kind: 'corrupt' } : undefined) });
    const target = createMemoryTarget();
    await expect(copyImage(source, target, index, { ...fast, names: ['t'] })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(target.store.manifests.has(index.digest)).toBe(false);
    expect(target.store.manifests.has(bad.digest)).toBe(false);
    expect(target.log.some((c) => c.op === 'commit')).toBe(false);
  });

  it('stops promptly with INTERRUPTED on abort, retries nothing, commits nothing and keeps the partial', async () => {
    const { store, root, layers } = image(['slow', 'other']);
    const slow = layerAt(layers, 0);
    const source = createMemorySource(store, { fault: (d) => (d.digest === slow.digest ? { kind: 'stall', after: 2_048 } : undefined) });
    const controller = new AbortController();
    const target = createMemoryTarget({
      onChunk: (d, bytes) => {
        if (d.digest === slow.digest && bytes >= 2_048) controller.abort();
      },
    });
    const events: TransferEvent[] = [];
    const pending = copyImage(source, target, root, { ...fast, names: ['t'], signal: controller.signal, onEvent: (e) => events.push(e) });
    await expect(pending).rejects.toSatisfy((err) => err instanceof GantryError && err.code === 'INTERRUPTED' && err.exitCode === 130);
    expect(source.blobCalls.filter((c) => c.digest === slow.digest)).toHaveLength(1);
    expect(events.some((e) => e.type === 'blob-retry')).toBe(false);
    expect(target.log.some((c) => c.op === 'writeManifest' || c.op === 'commit')).toBe(false);
    expect(target.staged.get(slow.digest)?.byteLength).toBe(2_048);
  });

  it('does not retry after an abort even when the transport reports it as a network failure', async () => {
    const { store, root, layers } = image(['slow']);
    const slow = layerAt(layers, 0);
    const source = createMemorySource(store, { fault: (d) => (d.digest === slow.digest ? { kind: 'stall', after: 1_024 } : undefined) });
    const controller = new AbortController();
    const target = createMemoryTarget({
      abortedAs: new GantryError('NETWORK', 'connection reset'),
      onChunk: (d, bytes) => {
        if (d.digest === slow.digest && bytes >= 1_024) controller.abort();
      },
    });
    const events: TransferEvent[] = [];
    const pending = copyImage(source, target, root, { ...fast, names: ['t'], signal: controller.signal, onEvent: (e) => events.push(e) });
    await expect(pending).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(source.blobCalls.filter((c) => c.digest === slow.digest)).toHaveLength(1);
    expect(events.some((e) => e.type === 'blob-retry')).toBe(false);
  });

  it('keeps the reason a caller aborted with when it is a GantryError', async () => {
    const { store, root } = image(['a']);
    const controller = new AbortController();
    const reason = new GantryError('INTERRUPTED', 'interrupted by SIGINT');
    controller.abort(reason);
    await expect(copyImage(createMemorySource(store), createMemoryTarget(), root, { names: [], signal: controller.signal })).rejects.toBe(reason);
  });
});
