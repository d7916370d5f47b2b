import { describe, expect, it } from 'vitest';
import { abortError, raceAbort, sleep } from '../../../src/internal/abort.js';
import { shareWork } from '../../../src/internal/shared-work.js';
import { GantryError } from '../../../src/errors/index.js';

describe('sleep', () => {
  it('waits the given time', async () => {
    const started = Date.now();
    await sleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('rejects with INTERRUPTED as soon as the signal aborts, and at once when it already has', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = sleep(5_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await expect(pending).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(sleep(5_000, controller.signal)).rejects.toMatchObject({ code: 'INTERRUPTED' });
  });
});

describe('abortError', () => {
  it('keeps a GantryError reason and wraps anything else as INTERRUPTED', () => {
    const reason = new GantryError('INTERRUPTED', 'interrupted');
    const a = new AbortController();
    a.abort(reason);
    expect(abortError(a.signal)).toBe(reason);
    const b = new AbortController();
    b.abort(new Error('timeout'));
    expect(abortError(b.signal)).toMatchObject({ code: 'INTERRUPTED', cause: b.signal.reason });
  });
});

describe('raceAbort', () => {
  it('settles with the promise when the signal stays quiet', async () => {
    expect(await raceAbort(Promise.resolve(7), new AbortController().signal)).toBe(7);
  });
});

describe('shareWork', () => {
  it('runs the work once for every joiner', async () => {
    let runs = 0;
    const work = shareWork(async () => ++runs);
    expect(await Promise.all([work.join(), work.join(new AbortController().signal)])).toEqual([1, 1]);
    expect(runs).toBe(1);
  });

  it('keeps the work alive while a joiner without a signal waits', async () => {
    let aborted = false;
    const work = shareWork(
      (signal) =>
        new Promise<string>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
          });
          setTimeout(() => resolve('done'), 30);
        }),
    );
    const controller = new AbortController();
    const quitter = work.join(controller.signal);
    const stayer = work.join();
    controller.abort();
    await expect(quitter).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(await stayer).toBe('done');
    expect(aborted).toBe(false);
    expect(work.abandoned).toBe(false);
  });
});
