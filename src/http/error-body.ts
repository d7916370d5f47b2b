import { RegistryError, type RegistryErrorEntry } from '../errors/index.js';
import { parseJson } from '../internal/parse-json.js';
import { redactUrl } from '../internal/redact.js';
import { isRetryableStatus, markRetried, parseRetryAfter } from './retry-policy.js';
import type { HttpResponse } from './types.js';

/** Error bodies are short JSON; a registry (or a proxy's HTML page) sending more is cut off here. */
export const ERROR_BODY_LIMIT = 64 * 1024;

export interface ReadRegistryErrorOptions {
  /**
   * The distribution error code to assume for a 404 without a decodable body
   * (a HEAD has none): `MANIFEST_UNKNOWN`, `BLOB_UNKNOWN`, `NAME_UNKNOWN`.
   */
  notFoundCode?: string;
  now?: () => number;
}

/**
 * Read (at most 64 KiB of) an error response and decode the distribution
 * spec's `{"errors":[{code,message,detail}]}` into a RegistryError, with the
 * redacted URL, `Retry-After` and how many attempts the client made (the
 * hint of a 5xx says so; a retryable status the client sent more than once
 * gets `details.retried`, see markRetried). Bodies that are not that JSON
 * give an error with no entries, classified by status. Never rejects for a
 * bad body.
 */
export async function readRegistryError(
  response: HttpResponse,
  method: string,
  options: ReadRegistryErrorOptions = {},
): Promise<RegistryError> {
  let entries: RegistryErrorEntry[] = [];
  let cause: unknown;
  if (method.toUpperCase() !== 'HEAD') {
    try {
      const { bytes } = await response.read(ERROR_BODY_LIMIT);
      entries = decodeEntries(bytes);
    } catch (err) {
      // The status already tells what went wrong; a body that breaks off only loses detail.
      if (!(err instanceof Error)) throw err;
      cause = err;
    }
  } else {
    await response.discard();
  }
  if (entries.length === 0 && response.status === 404 && options.notFoundCode) {
    entries = [{ code: options.notFoundCode }];
  }
  const retryAfterMs = parseRetryAfter(response.headers['retry-after'], (options.now ?? Date.now)());
  const error = new RegistryError({
    status: response.status,
    method: method.toUpperCase(),
    url: redactUrl(response.url),
    entries,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(response.attempts !== undefined ? { attempts: response.attempts } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
  // The client sends a retryable status back only once it has stopped retrying (budget spent, or a
  // Retry-After past its limit), so one it sent more than once is the end of the client's retries.
  const attempts = response.attempts ?? 1;
  return attempts > 1 && isRetryableStatus(response.status) ? markRetried(error, attempts) : error;
}

/** The `errors` array of a distribution error body; [] for anything else. */
export function decodeEntries(bytes: Uint8Array): RegistryErrorEntry[] {
  const parsed = parseJson(bytes).value;
  if (typeof parsed !== 'object' || parsed === null) return [];
  const list = (parsed as { errors?: unknown }).errors;
  if (!Array.isArray(list)) return [];
  const entries: RegistryErrorEntry[] = [];
  for (const item of list.slice(0, 32)) {
    if (typeof item !== 'object' || item === null) continue;
    const { code, message, detail } = item as Record<string, unknown>;
    if (typeof code !== 'string' || code.length === 0) continue;
    entries.push({
      code: code.toUpperCase().slice(0, 100),
      ...(typeof message === 'string' ? { message: message.replace(/[\r\n]+/g, ' ').slice(0, 500) } : {}),
      ...(detail !== undefined ? { detail } : {}),
    });
  }
  return entries;
}
