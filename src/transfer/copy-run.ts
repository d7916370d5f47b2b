import { setMaxListeners } from 'node:events';
import { abortError, throwIfAborted } from '../internal/abort.js';
import { createLimiter, type Limiter } from '../internal/limiter.js';
import { withRetries } from './retry.js';

/** The shared-limiter key of copies whose source is not a registry (and that name no keys). */
export const LOCAL_LIMITER_KEY = 'local';

export interface CopyRunOptions {
  concurrency: number;
  attempts: number;
  retryDelayMs: number;
  signal?: AbortSignal;
  limiter?: Limiter;
  limiterKeys: readonly string[];
  /** The shared limiter's keys for checks (CopyOptions.checkLimiterKeys); default limiterKeys. */
  checkLimiterKeys?: readonly string[];
}

/**
 * The state one copy shares between its tasks: its slots, and its failure.
 * The first failure stops the run: slots not yet granted are refused, slots
 * granted later start nothing, retries end, and `settle` throws that first
 * error (or the abort error, when the caller aborted). Work already in
 * flight is left to finish; only the caller's signal interrupts it.
 */
export interface CopyRun {
  readonly signal: AbortSignal | undefined;
  /** Aborts on the first failure. */
  readonly stop: AbortSignal;
  /** Aborts on the caller's abort or the first failure (listeners: up to 1024). */
  readonly either: AbortSignal;
  readonly attempts: number;
  readonly retryDelayMs: number;
  /** Run `fn` under one of the copy's slots and the shared limiter's slots for its keys. */
  slot<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * `slot` for a blob's check (is it there, can it be mounted): one of as
   * many slots again, kept apart so that checks go on while every transfer
   * slot is busy and a transfer slot is never held across a check's round
   * trips. The shared limiter counts them under `checkLimiterKeys`.
   */
  check<T>(fn: () => Promise<T>): Promise<T>;
  /** `slot`, retried per withRetries, with no events (manifests, commits). */
  retried<T>(fn: () => Promise<T>): Promise<T>;
  /** Record a failure; the first one wins. */
  fail(err: unknown): void;
  /** Throw when the run failed or the caller aborted: call before starting anything new. */
  guard(): void;
  /** After everything settled: throw the first failure (or the abort error) if there was one. */
  settle(): void;
}

export function createCopyRun(options: CopyRunOptions): CopyRun {
  const { signal, limiter } = options;
  const stopper = new AbortController();
  const stop = stopper.signal;
  // Waiting for a slot ends on the caller's abort or on the run's failure.
  const waitSignal = signal === undefined ? stop : AbortSignal.any([signal, stop]);
  // Every blob in flight listens on these; node's leak warning would fire at 10.
  setMaxListeners(1024, stop, waitSignal);
  const own = createLimiter({ perKey: options.concurrency });
  let failed = false;
  let firstError: unknown;

  const throwFailure = (): never => {
    if (signal?.aborted) throw abortError(signal);
    throw firstError;
  };
  // A slot granted after the run failed starts nothing.
  const unlessStopped =
    <T>(fn: () => Promise<T>) =>
    (): Promise<T> =>
      stop.aborted ? Promise.reject(firstError) : fn();

  // The copy's own slot first, then the shared ones: a copy never holds shared slots while it waits for its own.
  const slotOf =
    (pool: string, keys: readonly string[]) =>
    <T>(fn: () => Promise<T>): Promise<T> =>
      own.run(pool, () => (limiter === undefined ? unlessStopped(fn)() : limiter.run(keys, unlessStopped(fn), { signal: waitSignal })), {
        signal: waitSignal,
      });

  const run: CopyRun = {
    signal,
    stop,
    either: waitSignal,
    attempts: options.attempts,
    retryDelayMs: options.retryDelayMs,
    slot: slotOf('copy', options.limiterKeys),
    check: slotOf('check', options.checkLimiterKeys ?? options.limiterKeys),
    retried: (fn) => withRetries(() => run.slot(fn), { attempts: options.attempts, delayMs: options.retryDelayMs, signal, stop }),
    fail(err) {
      if (failed) return;
      failed = true;
      firstError = err;
      stopper.abort(err);
    },
    guard() {
      if (failed) throwFailure();
      throwIfAborted(signal);
    },
    settle() {
      if (failed || signal?.aborted) throwFailure();
    },
  };
  return run;
}
