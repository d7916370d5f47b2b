import { describe, expect, it } from 'vitest';
import { createLimiter } from '../../../src/internal/limiter.js';

// The limiter lives in src/internal; its tests sit with the engine that drives it.

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('createLimiter', () => {
  it('runs at most perKey tasks per key and starts waiters in arrival order', async () => {
    const limiter = createLimiter({ perKey: 2 });
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((gate, i) =>
      limiter.run('r.example', async () => {
        started.push(i);
        await gate.promise;
        return i;
      }),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    expect(limiter.active('r.example')).toBe(2);
    expect(limiter.waiting('r.example')).toBe(2);
    gates[1]?.resolve();
    await flush();
    expect(started).toEqual([0, 1, 2]);
    for (const gate of gates) gate.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(limiter.active('r.example')).toBe(0);
  });

  it('keeps keys independent, and honours a per-key limit', async () => {
    const limiter = createLimiter({ perKey: 1, limits: { 'wide.example': 3 } });
    const gate = deferred();
    const hold = (key: string) => limiter.run(key, () => gate.promise);
    const runs = [hold('a.example'), hold('b.example'), hold('wide.example'), hold('wide.example'), hold('wide.example'), hold('a.example')];
    await flush();
    expect(limiter.active('a.example')).toBe(1);
    expect(limiter.waiting('a.example')).toBe(1);
    expect(limiter.active('b.example')).toBe(1);
    expect(limiter.active('wide.example')).toBe(3);
    gate.resolve();
    await Promise.all(runs);
  });

  it('holds a slot under every key it is given', async () => {
    const limiter = createLimiter({ perKey: 1 });
    const gate = deferred();
    const both = limiter.run(['dst.example', 'src.example'], () => gate.promise);
    let dstOnly = false;
    const other = limiter.run('dst.example', async () => {
      dstOnly = true;
    });
    await flush();
    expect(dstOnly).toBe(false);
    expect(limiter.active('src.example')).toBe(1);
    gate.resolve();
    await Promise.all([both, other]);
    expect(dstOnly).toBe(true);
  });

  it('frees the slot when the task fails', async () => {
    const limiter = createLimiter({ perKey: 1 });
    await expect(limiter.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run('k', async () => 'next')).toBe('next');
  });

  it('rejects a waiter with INTERRUPTED when its signal aborts, and leaves the queue to the others', async () => {
    const limiter = createLimiter({ perKey: 1 });
    const gate = deferred();
    const holder = limiter.run('k', () => gate.promise);
    const controller = new AbortController();
    const aborted = limiter.run('k', async () => 'never', { signal: controller.signal });
    const after = limiter.run('k', async () => 'after');
    await flush();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(limiter.waiting('k')).toBe(1);
    gate.resolve();
    await holder;
    expect(await after).toBe('after');
    expect(limiter.active('k')).toBe(0);
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => createLimiter({ perKey: 0 })).toThrow(/positive integer/);
    expect(() => createLimiter({ perKey: 2, limits: { k: 1.5 } })).toThrow(/positive integer/);
  });
});
