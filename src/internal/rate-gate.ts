import { sleep, throwIfAborted } from './abort.js';

/** Paces work to a rate: `take` resolves when the next unit may start. */
export interface RateGate {
  take(signal?: AbortSignal): Promise<void>;
}

export interface RateGateOptions {
  /** Units per second; the gate allows a burst of up to this many after a quiet second. */
  perSecond: number;
  now?: () => number;
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * At most `perSecond` starts in any window of one second: each caller
 * reserves, in order, the earliest start one second after the start
 * `perSecond` places before it, so concurrent callers share the rate.
 */
export function createRateGate(options: RateGateOptions): RateGate {
  const { perSecond } = options;
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new Error(`perSecond must be a positive number, got ${perSecond}`);
  const now = options.now ?? Date.now;
  const wait = options.wait ?? sleep;
  const window = Math.max(1, Math.floor(perSecond));
  const period = (1000 * window) / perSecond;
  /** The reserved start times of the last `window` units, oldest first. */
  const starts: number[] = [];
  return {
    async take(signal) {
      throwIfAborted(signal);
      const t = now();
      const oldest = starts.length < window ? undefined : starts[0];
      const start = oldest === undefined ? t : Math.max(t, oldest + period);
      starts.push(start);
      if (starts.length > window) starts.shift();
      if (start > t) await wait(start - t, signal);
    },
  };
}
