import { raceAbort } from './abort.js';

/**
 * One piece of async work several callers wait for (a ping, a token fetch).
 * Each caller waits with its own signal; the work itself is cancelled only
 * when every caller that joined it has given up, so one caller's Ctrl-C or
 * timeout never fails the others.
 */
export interface SharedWork<T> {
  /** Wait for the result; rejects early with the caller's abort error when `signal` aborts. */
  join(signal?: AbortSignal): Promise<T>;
  /** True once every caller gave up and the work was cancelled: do not hand it to new callers. */
  readonly abandoned: boolean;
}

export function shareWork<T>(work: (signal: AbortSignal) => Promise<T>): SharedWork<T> {
  const controller = new AbortController();
  let waiting = 0;
  let settled = false;
  const promise = work(controller.signal).finally(() => {
    settled = true;
  });
  // Callers who gave up no longer observe the outcome; keep it from being reported as unhandled.
  promise.catch((err: unknown) => err);
  return {
    get abandoned() {
      return controller.signal.aborted;
    },
    join(signal) {
      if (!signal) {
        // A caller that cannot abort keeps the work alive for good.
        waiting = Number.POSITIVE_INFINITY;
        return promise;
      }
      waiting++;
      return raceAbort(promise, signal).catch((err: unknown) => {
        if (signal.aborted) {
          waiting--;
          if (waiting === 0 && !settled) controller.abort(signal.reason);
        }
        throw err;
      });
    },
  };
}
