import { GantryError } from '../errors/index.js';

/**
 * The error to throw when `signal` has aborted: its reason when that is a
 * GantryError (the CLI aborts with INTERRUPTED), else INTERRUPTED wrapping it.
 */
export function abortError(signal: AbortSignal): GantryError {
  const reason: unknown = signal.reason;
  if (reason instanceof GantryError) return reason;
  return new GantryError('INTERRUPTED', 'the operation was aborted', { cause: reason });
}

/** Throw `abortError(signal)` when the signal has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/**
 * Wait `ms` milliseconds. Rejects with `abortError` as soon as the signal
 * aborts (also when it already has); the timer never outlives the wait.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settle with `promise`, or reject with `abortError` when `signal` aborts
 * first. For work shared by several callers (a cached ping), where one
 * caller's abort must not cancel the work for the others.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
