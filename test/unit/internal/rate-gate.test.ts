import { describe, expect, it } from 'vitest';
import { createRateGate } from '../../../src/internal/rate-gate.js';

/** A fake clock: waits advance it, so the test sees exactly when each unit would start. */
function clock() {
  let t = 10_000;
  const starts: number[] = [];
  return {
    now: () => t,
    wait: async (ms: number) => {
      t += ms;
    },
    starts,
    mark: () => starts.push(t),
  };
}

describe('createRateGate', () => {
  it('lets a burst of perSecond through, then paces the rest at the rate', async () => {
    const c = clock();
    const gate = createRateGate({ perSecond: 4, now: c.now, wait: c.wait });
    for (let i = 0; i < 10; i++) {
      await gate.take();
      c.mark();
    }
    // Never more than 4 starts in any window of one second.
    for (let i = 4; i < c.starts.length; i++) expect(c.starts[i]! - c.starts[i - 4]!).toBeGreaterThanOrEqual(1000);
    // And no slower than the rate asks: 10 units at 4/s start within 2 s (4 at 0 s, 4 at 1 s, 2 at 2 s).
    expect(c.starts.at(-1)! - c.starts[0]!).toBeLessThanOrEqual(2000);
  });

  it('keeps concurrent callers within the rate together', async () => {
    const c = clock();
    const waits: number[] = [];
    const waitSpy = async (ms: number) => {
      waits.push(ms);
    };
    const shared = createRateGate({ perSecond: 2, now: c.now, wait: waitSpy });
    await Promise.all([0, 1, 2, 3, 4].map(() => shared.take()));
    // With the clock standing still: two start at once, two a second later, one two seconds later.
    expect(waits.sort((a, b) => a - b)).toEqual([1000, 1000, 2000]);
  });

  it('rejects a rate that is not a positive number', () => {
    expect(() => createRateGate({ perSecond: 0 })).toThrow();
  });
});
