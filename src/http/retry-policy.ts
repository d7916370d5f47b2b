// The marks of a retried failure live in internal/, so that auth (below http) reads token-service answers by the same rule.
export { isRetryableStatus, markRetried, parseRetryAfter } from '../internal/retry-marks.js';

/** How the HTTP client retries; every field has a default, tests shrink the delays. */
export interface RetryOptions {
  /** Total attempts, the first included (default 4). */
  attempts: number;
  /**
   * Retries after a connect or response-header timeout (default 1), within
   * `attempts`. Each timed-out try costs a whole timeout (15 s to connect,
   * 60 s for headers): a registry that hangs twice in a row will hang again,
   * and four tries would take minutes to fail.
   */
  timeoutRetries: number;
  /** The backoff ceiling of the first retry; it doubles per retry (default 250 ms). */
  baseDelayMs: number;
  /** The largest backoff ceiling (default 8 s). */
  maxDelayMs: number;
  /**
   * The longest `Retry-After` gantry waits (default 60 s). A server asking for
   * more ends the retries at once: the caller gets the 429/503 with its
   * `retryAfterMs` rather than a wait that is known to be too short.
   */
  maxRetryAfterMs: number;
  /** Source of jitter in [0, 1) (default Math.random). */
  random: () => number;
}

export const DEFAULT_RETRY: Readonly<RetryOptions> = {
  attempts: 4,
  timeoutRetries: 1,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
  random: Math.random,
};

/**
 * The wait before retry number `retry` (1 for the first retry): "full
 * jitter", a uniform draw below an exponentially growing ceiling, so many
 * clients failing together do not retry in step.
 */
export function backoffDelay(retry: number, options: RetryOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(options.random() * ceiling);
}

/** GET and HEAD are safe to repeat (RFC 9110 §9.2.2); anything else only when the caller says so. */
export function isReplayable(method: string, idempotent: boolean | undefined): boolean {
  const m = method.toUpperCase();
  return m === 'GET' || m === 'HEAD' || idempotent === true;
}
