import { RegistryError, type RegistryErrorEntry } from '../errors/index.js';
import { parseJson } from '../internal/parse-json.js';
import { redactUrl } from '../internal/redact.js';
import { isRetryableStatus, markRetried, parseRetryAfter } from '../internal/retry-marks.js';
import type { TokenResponse } from './token-transport.js';

/** Error bodies of token services are short; more is not worth reading. */
const TOKEN_ERROR_LIMIT = 64 * 1024;

export interface ReadTokenErrorOptions {
  /** The clock an HTTP-date `Retry-After` is measured against (default Date.now). */
  now?: () => number;
}

/**
 * A token service's error answer as a RegistryError. Token services speak
 * several dialects: distribution's `{"errors":[…]}`, OAuth2's
 * `{"error","error_description"}` (RFC 6749 §5.2) and Docker Hub's
 * `{"details":…}`; each becomes one entry. Never rejects for a bad body.
 *
 * Carries what src/http's readRegistryError gives a registry's answer, so
 * callers treat a failing token service as they treat a failing registry:
 * `retryAfterMs` from `Retry-After`, `attempts` (the hint of a 5xx says
 * how many), and for a status the HTTP client retries, sent more than
 * once, `details.attempts` and `details.retried = true` (the client's
 * retries are spent; the copy engine does not repeat them, see
 * src/transfer/retry.ts).
 */
export async function readTokenError(response: TokenResponse, method: string, options: ReadTokenErrorOptions = {}): Promise<RegistryError> {
  let entries: RegistryErrorEntry[] = [];
  let cause: unknown;
  try {
    const { bytes } = await response.read(TOKEN_ERROR_LIMIT);
    entries = decode(bytes);
  } catch (err) {
    // The status says what failed; a body that breaks off only loses detail.
    if (!(err instanceof Error)) throw err;
    cause = err;
  }
  const retryAfterMs = parseRetryAfter(response.headers['retry-after'], (options.now ?? Date.now)());
  const attempts = response.attempts ?? 1;
  const error = new RegistryError({
    status: response.status,
    method,
    url: redactUrl(response.url),
    entries,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(response.attempts !== undefined ? { attempts } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
  // The client hands back a status it retries only once it stopped retrying, so one it sent more
  // than once is the end of its retries.
  return attempts > 1 && isRetryableStatus(response.status) ? markRetried(error, attempts) : error;
}

function decode(bytes: Uint8Array): RegistryErrorEntry[] {
  const body = parseJson(bytes).value;
  if (typeof body !== 'object' || body === null) return [];
  const fields = body as Record<string, unknown>;
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value.length > 0 ? value.replace(/[\r\n]+/g, ' ').slice(0, 300) : undefined;
  if (Array.isArray(fields.errors)) {
    return fields.errors.slice(0, 8).flatMap((item: unknown) => {
      const entry = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
      const code = text(entry.code);
      const message = text(entry.message);
      return code ? [{ code: code.toUpperCase(), ...(message ? { message } : {}) }] : [];
    });
  }
  const oauth = text(fields.error);
  if (oauth) {
    const message = text(fields.error_description);
    return [{ code: oauth.toUpperCase(), ...(message ? { message } : {}) }];
  }
  const details = text(fields.details);
  return details ? [{ code: 'UNAUTHORIZED', message: details }] : [];
}
