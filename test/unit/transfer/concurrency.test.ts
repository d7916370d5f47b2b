import { describe, expect, it } from 'vitest';
import { createLimiter } from '../../../src/internal/limiter.js';
import { copyImage } from '../../../src/transfer/index.js';
import { addImage, createMemorySource, createMemoryTarget, createStore, type MemoryTarget } from '../../helpers/memory-transport.js';

const layers = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/**
 * Holds the target's first write (and so its transfer slot) for a while, and
 * returns how many checks (hasBlob) had been made by the end of that wait.
 */
function countChecksDuringFirstWrite(target: MemoryTarget): () => number {
  const write = target.writeBlob.bind(target);
  let counted = -1;
  let writes = 0;
  target.writeBlob = async (desc, body, options) => {
    if (++writes === 1) {
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      counted = target.log.filter((c) => c.op === 'hasBlob').length;
    }
    await write(desc, body, options);
  };
  return () => counted;
}

describe('copy concurrency', () => {
  it('never has more blobs in flight than the cap, and does use the cap', async () => {
    const store = createStore();
    const root = addImage(store, { layers: layers('l', 12) });
    const target = createMemoryTarget();
    await copyImage(createMemorySource(store), target, root, { names: [], concurrency: 3 });
    expect(target.maxInFlight).toBe(3);
    expect(target.store.blobs.size).toBe(13);
  });

  it('moves one blob at a time with concurrency 1', async () => {
    const store = createStore();
    const root = addImage(store, { layers: layers('l', 5) });
    const target = createMemoryTarget();
    await copyImage(createMemorySource(store), target, root, { names: [], concurrency: 1 });
    expect(target.maxInFlight).toBe(1);
  });

  it('asks about the other blobs while every transfer slot is busy', async () => {
    const store = createStore();
    const root = addImage(store, { layers: layers('l', 4) });
    const target = createMemoryTarget();
    const checkedDuringFirstWrite = countChecksDuringFirstWrite(target);
    await copyImage(createMemorySource(store), target, root, { names: [], concurrency: 1 });
    // Config and four layers: all five asked about while the first one moved, each moved one at a time.
    expect(checkedDuringFirstWrite()).toBe(5);
    expect(target.maxInFlight).toBe(1);
    expect(target.store.blobs.size).toBe(5);
  });

  it('shares a limiter cap per registry across copies running at once', async () => {
    const limiter = createLimiter({ perKey: 2 });
    const storeA = createStore();
    const storeB = createStore();
    const rootA = addImage(storeA, { layers: layers('a', 8) });
    const rootB = addImage(storeB, { layers: layers('b', 8) });
    // One shared target store stands for one destination registry, so in-flight writes are counted across both copies.
    const sharedStore = createStore();
    let inFlight = 0;
    let peak = 0;
    const counting = () => {
      const target = createMemoryTarget({ store: sharedStore });
      const write = target.writeBlob.bind(target);
      target.writeBlob = async (desc, body, options) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        try {
          await write(desc, body, options);
        } finally {
          inFlight--;
        }
      };
      return target;
    };
    const [a, b] = await Promise.all([
      copyImage(createMemorySource(storeA, { origin: { registry: 'src.example', repository: 'a' } }), counting(), rootA, { names: ['a'], concurrency: 4, limiter }),
      copyImage(createMemorySource(storeB, { origin: { registry: 'src.example', repository: 'b' } }), counting(), rootB, { names: ['b'], concurrency: 4, limiter }),
    ]);
    expect(peak).toBe(2);
    expect(a.blobs.every((x) => x.action === 'copied')).toBe(true);
    expect(b.blobs.every((x) => x.action === 'copied')).toBe(true);
    expect(limiter.active('src.example')).toBe(0);
  });

  it('sends a blob that copies side by side share once: one asks first, the others find it present at their turn', async () => {
    const limiter = createLimiter({ perKey: 2 });
    const source = createStore();
    const base = layers('base', 6);
    const roots = ['a', 'b', 'c', 'd'].map((tag) => addImage(source, { layers: [...base, `${tag}-top`] }));
    // One destination repository, as a mirror writes every tag into.
    const destination = createStore();
    const targets = roots.map(() => createMemoryTarget({ store: destination, knownPresent: true }));
    await Promise.all(
      roots.map((root, i) =>
        copyImage(createMemorySource(source, { origin: { registry: 'src.example', repository: 'app' } }), targets[i] as MemoryTarget, root, {
          names: [`t${i}`],
          concurrency: 4,
          limiter,
        }),
      ),
    );
    const writes = targets.flatMap((t) => t.log.filter((c) => c.op === 'writeBlob').map((c) => c.digest));
    // 6 shared layers, 4 top layers, 4 configs: each sent once.
    expect(writes).toHaveLength(new Set(writes).size);
    expect(new Set(writes).size).toBe(destination.blobs.size);
  });

  it('takes the shared slots of the keys given for checks only: a busy source does not hold up asking the destination', async () => {
    // The source's cap is 1 and its one slot is held by the first transfer.
    const limiter = createLimiter({ perKey: 8, limits: { 'src.example': 1 } });
    const store = createStore();
    const root = addImage(store, { layers: layers('l', 4) });
    const target = createMemoryTarget();
    const checkedDuringFirstWrite = countChecksDuringFirstWrite(target);
    await copyImage(createMemorySource(store, { origin: { registry: 'src.example', repository: 'app' } }), target, root, {
      names: [],
      concurrency: 1,
      limiter,
      limiterKeys: ['src.example', 'dst.example'],
      checkLimiterKeys: ['dst.example'],
    });
    expect(checkedDuringFirstWrite()).toBe(5);
  });

  it('takes slots under every key the caller names, so copies from different sources share a destination cap', async () => {
    const limiter = createLimiter({ perKey: 8, limits: { 'dst.example': 1 } });
    const sharedStore = createStore();
    const one = createStore();
    const two = createStore();
    const rootOne = addImage(one, { layers: layers('x', 4) });
    const rootTwo = addImage(two, { layers: layers('y', 4) });
    let inFlight = 0;
    let peak = 0;
    const counting = () => {
      const target = createMemoryTarget({ store: sharedStore });
      const has = target.hasBlob.bind(target);
      const write = target.writeBlob.bind(target);
      target.hasBlob = async (desc, options) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        try {
          return await has(desc, options);
        } finally {
          inFlight--;
        }
      };
      target.writeBlob = async (desc, body, options) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        try {
          await write(desc, body, options);
        } finally {
          inFlight--;
        }
      };
      return target;
    };
    await Promise.all([
      copyImage(createMemorySource(one, { origin: { registry: 'one.example', repository: 'x' } }), counting(), rootOne, {
        names: [],
        limiter,
        limiterKeys: ['one.example', 'dst.example'],
      }),
      copyImage(createMemorySource(two, { origin: { registry: 'two.example', repository: 'y' } }), counting(), rootTwo, {
        names: [],
        limiter,
        limiterKeys: ['two.example', 'dst.example'],
      }),
    ]);
    expect(peak).toBe(1);
    expect(sharedStore.blobs.size).toBe(10);
  });
});
