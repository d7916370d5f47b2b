import { GantryError, RegistryError, type ErrorCode } from '../errors/index.js';
import { abortError, sleep } from '../internal/abort.js';
import { asFileError } from '../internal/file-error.js';

/** Attempts per blob when the caller does not say (CopyOptions.attempts). */
export const DEFAULT_ATTEMPTS = 3;
/** The first retry's backoff ceiling; it doubles per retry up to MAX_DELAY_MS. */
export const DEFAULT_RETRY_DELAY_MS = 250;
const MAX_DELAY_MS = 8_000;
// Past this, a Retry-After is a verdict rather than a pause: give up and
// report the rate limit (the http layer draws the same line).
const MAX_RETRY_AFTER_MS = 60_000;

// Failures where the same step may well succeed next time: bytes damaged or
// cut short on the way (a flaky proxy), the network, an overloaded or
// rate-limiting registry, a server fault. Everything else (401/403/404,
// usage, unsupported content, interruption) would fail the same way again.
const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'DIGEST_MISMATCH',
  'SIZE_MISMATCH',
  'NETWORK',
  'TIMEOUT',
  'RATE_LIMITED',
  'REGISTRY_ERROR',
]);

/** File-system errors that may pass by themselves: too many open files, a busy or interrupted call. */
const TRANSIENT_FILE_ERRORS = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR']);

/**
 * True when another attempt of a whole blob step may succeed. GantryErrors
 * decide by code (RegistryErrors with status 401, 403 or 404 never retry);
 * other errors retry only when they carry a system error code (ECONNRESET,
 * ERR_STREAM_PREMATURE_CLOSE: the stream broke), since a plain Error
 * without one is a programming mistake that would only repeat; but not a
 * file-system error on a path (EACCES, ENOSPC, EROFS, ENOTDIR…), which
 * another attempt meets again.
 *
 * An error whose `details.retried` is true is not retried either: the HTTP
 * client sets it when it has already sent that request as often as its
 * policy allows (4 tries for a 5xx, a 429 or a reset connection; 2 for a
 * timeout), so another step would only multiply its tries (3 × 4 requests
 * per blob, each retry after its backoff or Retry-After), not give the step
 * a different chance. What the client cannot retry still is retried here: a stream body
 * (PATCH) or a session's closing PUT that failed, a connection that broke
 * mid-body, corrupt bytes, a refused connection.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof GantryError && err.details?.retried === true) return false;
  if (err instanceof RegistryError) {
    if (err.status === 401 || err.status === 403 || err.status === 404) return false;
    if (err.retryAfterMs !== undefined && err.retryAfterMs > MAX_RETRY_AFTER_MS) return false;
  }
  if (err instanceof GantryError) return RETRYABLE_CODES.has(err.code);
  // A local file that cannot be written (permissions, a full or read-only disk) stays so;
  // too many open files, or a busy file, may pass.
  const fileError = asFileError(err);
  if (fileError !== undefined) return TRANSIENT_FILE_ERRORS.has(String(fileError.details?.errno));
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}

export interface RetryOptions {
  /** Total attempts, the first included (a positive integer). */
  attempts: number;
  /** Backoff ceiling of the first retry. */
  delayMs: number;
  /** The caller's signal: once aborted, no retry, and the abort error is thrown. */
  signal?: AbortSignal;
  /** Ends retrying early (the copy already failed elsewhere): the last error is thrown as it is. */
  stop?: AbortSignal;
  /** Called before each retry with the failed attempt's number (1-based) and its error. */
  onRetry?: (attempt: number, error: Error) => void;
  /** A further condition on retrying an error `isRetryable` accepts (the caller knows its source). */
  retryable?: (error: unknown) => boolean;
}

/**
 * Runs `step` until it succeeds, it fails with an error `isRetryable`
 * rejects, or `attempts` are used up, waiting a jittered, doubling backoff
 * (at least a RegistryError's Retry-After) between attempts.
 *
 * @throws the last attempt's error; the abort error (INTERRUPTED) when the
 *   signal aborts, whatever the step threw then.
 */
export async function withRetries<T>(step: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step(attempt);
    } catch (err) {
      if (options.signal?.aborted) throw abortError(options.signal);
      if (isFinal(err, attempt, options)) throw err;
      options.onRetry?.(attempt, err as Error);
      await pause(backoff(attempt, options.delayMs, err), options, err);
    }
  }
}

/**
 * True when `withRetries` ends on `err`, thrown by attempt number `attempt`
 * (the caller's abort aside): a step that holds something others wait for
 * can record its failure before it lets go.
 */
export function isFinal(err: unknown, attempt: number, options: RetryOptions): boolean {
  return attempt >= options.attempts || options.stop?.aborted === true || !isRetryable(err) || options.retryable?.(err) === false;
}

function backoff(attempt: number, baseMs: number, err: unknown): number {
  const ceiling = Math.min(MAX_DELAY_MS, baseMs * 2 ** (attempt - 1));
  // Full jitter: copies failing together (a registry restart) do not retry in step.
  const jittered = Math.floor(Math.random() * ceiling);
  const retryAfter = err instanceof RegistryError ? (err.retryAfterMs ?? 0) : 0;
  return Math.max(jittered, retryAfter);
}

// Sleeps until the backoff is over, the caller aborts (→ INTERRUPTED) or
// the copy stops (→ the error that was about to be retried).
async function pause(ms: number, options: RetryOptions, lastError: unknown): Promise<void> {
  const signals = [options.signal, options.stop].filter((s): s is AbortSignal => s !== undefined);
  const either = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  try {
    await sleep(ms, either);
  } catch (err) {
    // sleep only rejects when a signal aborted; anything else is not ours to handle.
    if (!either?.aborted) throw err;
    if (options.signal?.aborted) throw abortError(options.signal);
    throw lastError;
  }
}
