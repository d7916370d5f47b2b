import { abortError } from './abort.js';

/**
 * Caps how much work runs at once per key (a registry host, say), across
 * every caller that shares the limiter: several copies running together
 * never hold more than `perKey` slots of one registry between them.
 */
export interface Limiter {
  /**
   * Run `fn` once a slot is free under every key in `keys`, and free the
   * slots when it settles. Several keys are taken in sorted order, so two
   * callers asking for overlapping keys can never deadlock each other.
   * Waiters are served first come, first served per key.
   * Rejects with the abort error (INTERRUPTED, see internal/abort) when
   * `signal` aborts while waiting; once `fn` has started, it alone decides
   * how to react to the signal. Otherwise settles as `fn` does.
   */
  run<T>(keys: string | readonly string[], fn: () => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
  /** Slots in use under `key` right now. */
  active(key: string): number;
  /** Callers waiting for a slot under `key` right now. */
  waiting(key: string): number;
  /** The cap for `key`. */
  limitOf(key: string): number;
}

export interface LimiterOptions {
  /** Slots per key (a positive integer). */
  perKey: number;
  /** Caps for particular keys that differ from `perKey` (a registry that throttles harder). */
  limits?: Readonly<Record<string, number>>;
}

interface Waiter {
  grant: () => void;
}

interface Lane {
  active: number;
  queue: Waiter[];
}

/**
 * A keyed counting semaphore.
 * @throws Error (programmer error) when a cap is not a positive integer.
 */
export function createLimiter(options: LimiterOptions): Limiter {
  checkCap(options.perKey, 'perKey');
  const limits = new Map(Object.entries(options.limits ?? {}));
  for (const [key, cap] of limits) checkCap(cap, `limits[${JSON.stringify(key)}]`);
  const lanes = new Map<string, Lane>();

  const limitOf = (key: string): number => limits.get(key) ?? options.perKey;

  function lane(key: string): Lane {
    let l = lanes.get(key);
    if (l === undefined) {
      l = { active: 0, queue: [] };
      lanes.set(key, l);
    }
    return l;
  }

  function acquire(key: string, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const l = lane(key);
    if (l.active < limitOf(key) && l.queue.length === 0) {
      l.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const at = l.queue.indexOf(waiter);
        if (at !== -1) l.queue.splice(at, 1);
        forget(key, l);
        reject(abortError(signal as AbortSignal));
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      l.queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  function release(key: string): void {
    const l = lanes.get(key);
    if (l === undefined) throw new Error(`limiter: release of ${key} without a slot`);
    const next = l.queue.shift();
    // The slot passes straight to the next waiter, so `active` stays put.
    if (next !== undefined) next.grant();
    else {
      l.active--;
      forget(key, l);
    }
  }

  function forget(key: string, l: Lane): void {
    if (l.active === 0 && l.queue.length === 0) lanes.delete(key);
  }

  return {
    async run(keys, fn, runOptions = {}) {
      const sorted = [...new Set(typeof keys === 'string' ? [keys] : keys)].sort();
      const held: string[] = [];
      try {
        for (const key of sorted) {
          await acquire(key, runOptions.signal);
          held.push(key);
        }
        return await fn();
      } finally {
        for (const key of held.reverse()) release(key);
      }
    },
    active: (key) => lanes.get(key)?.active ?? 0,
    waiting: (key) => lanes.get(key)?.queue.length ?? 0,
    limitOf,
  };
}

function checkCap(cap: number, name: string): void {
  if (!Number.isSafeInteger(cap) || cap < 1) throw new Error(`limiter: ${name} must be a positive integer, got ${String(cap)}`);
}
