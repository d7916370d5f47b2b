import type { GantryError } from '../errors/index.js';

/**
 * What an HTTP answer says about retrying it, shared by the HTTP client
 * (src/http) and the token service reader (src/auth), which sits below it.
 */

/** Statuses worth another try: request timeout, rate limiting, server faults (RFC 9110 §15.6). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

/**
 * `Retry-After` in milliseconds from now: delay-seconds or an HTTP-date
 * (RFC 9110 §10.2.3). Undefined when absent or unparseable; never negative.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * Records on `error` that the client sent its request `attempts` times and
 * stopped because its retry budget for that failure ran out (not because the
 * failure is one it never retries, or the request could not be sent again):
 * `details.attempts` and `details.retried = true`. A caller that retries a
 * larger step (the copy engine's blob step) reads `details.retried` so as not
 * to multiply the client's retries by its own. Returns `error`.
 */
export function markRetried<E extends GantryError>(error: E, attempts: number): E {
  // Every error the client marks (RegistryError, classifyNetworkError's) has a details object made for it alone.
  if (error.details !== undefined) Object.assign(error.details, { attempts, retried: true });
  return error;
}
