import { describe, expect, it } from 'vitest';
import { createGroupCommit } from '../../../src/internal/group-commit.js';

/** A write that waits until the test lets it finish, recording each batch. */
function gatedWriter() {
  const batches: string[][] = [];
  const gates: Array<() => void> = [];
  let failNext: Error | undefined;
  const write = async (changes: string[]): Promise<void> => {
    batches.push(changes);
    await new Promise<void>((resolve) => gates.push(resolve));
    if (failNext) {
      const err = failNext;
      failNext = undefined;
      throw err;
    }
  };
  const open = async (): Promise<void> => {
    for (let i = 0; i < 100 && gates.length === 0; i++) await new Promise((r) => setImmediate(r));
    gates.shift()?.();
  };
  return { batches, write, open, failWith: (err: Error) => (failNext = err) };
}

describe('createGroupCommit', () => {
  it('writes changes added during a write together, in the next write', async () => {
    const w = gatedWriter();
    const group = createGroupCommit(w.write);
    const done: string[] = [];
    const first = group.add('a').then(() => done.push('a'));
    const rest = ['b', 'c', 'd'].map((c) => group.add(c).then(() => done.push(c)));
    await w.open();
    await first;
    expect(done).toEqual(['a']);
    await w.open();
    await Promise.all(rest);
    expect(w.batches).toEqual([['a'], ['b', 'c', 'd']]);
    expect(done).toEqual(['a', 'b', 'c', 'd']);
  });

  it('fails every change of a failed write, and goes on with the next batch', async () => {
    const w = gatedWriter();
    const group = createGroupCommit(w.write);
    const first = group.add('a');
    const second = group.add('b');
    const third = group.add('c');
    w.failWith(new Error('disk full'));
    await w.open();
    await expect(first).rejects.toThrow('disk full');
    await w.open();
    await expect(Promise.all([second, third])).resolves.toBeDefined();
    expect(w.batches).toEqual([['a'], ['b', 'c']]);
  });

  it('writes once per change when changes come one after another', async () => {
    const batches: string[][] = [];
    const group = createGroupCommit(async (changes: string[]) => {
      batches.push(changes);
    });
    for (const c of ['a', 'b', 'c']) await group.add(c);
    expect(batches).toEqual([['a'], ['b'], ['c']]);
  });

  it('hands the batch the signal of its latest change', async () => {
    const signals: Array<AbortSignal | undefined> = [];
    const w = gatedWriter();
    const group = createGroupCommit(async (changes: string[], signal) => {
      signals.push(signal);
      await w.write(changes);
    });
    const one = new AbortController();
    const two = new AbortController();
    const first = group.add('a', one.signal);
    const second = group.add('b', one.signal);
    const third = group.add('c', two.signal);
    await w.open();
    await w.open();
    await Promise.all([first, second, third]);
    expect(signals).toEqual([one.signal, two.signal]);
  });
});
