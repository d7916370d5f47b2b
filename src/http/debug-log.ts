import { REDACTED, redactHeader, redactUrl } from '../internal/redact.js';

/** Request headers worth a debug line (values of credential headers are redacted). */
const REQUEST_HEADERS = ['authorization', 'range', 'content-type', 'content-length'];

/** Response headers worth a debug line. */
const RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'docker-content-digest',
  'location',
  'www-authenticate',
  'retry-after',
  'ratelimit-limit',
  'ratelimit-remaining',
  'docker-ratelimit-source',
];

const URL_HEADERS = new Set(['location', 'content-location']);

/** A header value fit for a log: credentials reduced to their scheme, URLs redacted. */
function safeValue(name: string, value: string, isRequest: boolean): string {
  const lower = name.toLowerCase();
  if (URL_HEADERS.has(lower)) return redactUrl(value);
  const redacted = redactHeader(lower, value);
  if (redacted !== value) return redacted;
  // A credential in a header gantry does not know as secret still must not leak.
  if (isRequest && /^(basic|bearer)\s/i.test(value)) return `${value.split(/\s/)[0] ?? ''} ${REDACTED}`;
  return value.replace(/[\r\n]+/g, ' ');
}

function formatHeaders(headers: Record<string, string>, names: readonly string[], isRequest: boolean): string {
  const parts: string[] = [];
  for (const name of names) {
    const value = headers[name];
    if (value !== undefined && value !== '') parts.push(`${name}: ${safeValue(name, value, isRequest)}`);
  }
  return parts.length > 0 ? ` [${parts.join('; ')}]` : '';
}

/** `http: -> GET https://host/v2/ (attempt 2) [authorization: Bearer [REDACTED]]` */
export function requestLine(init: { method: string; url: URL; headers: Record<string, string>; attempt: number }): string {
  const attempt = init.attempt > 1 ? ` (attempt ${init.attempt})` : '';
  return `http: -> ${init.method} ${redactUrl(init.url)}${attempt}${formatHeaders(init.headers, REQUEST_HEADERS, true)}`;
}

/** `http: <- 200 GET https://host/v2/ 12ms [content-type: …]` */
export function responseLine(init: {
  method: string;
  url: URL;
  status: number;
  ms: number;
  headers: Record<string, string>;
}): string {
  return `http: <- ${init.status} ${init.method} ${redactUrl(init.url)} ${Math.round(init.ms)}ms${formatHeaders(init.headers, RESPONSE_HEADERS, false)}`;
}

/** `http: !! NETWORK 3ms GET https://host/v2/: connect ECONNREFUSED …` (the message is already redacted). */
export function failureLine(init: { ms: number; code: string; message: string }): string {
  return `http: !! ${init.code} ${Math.round(init.ms)}ms ${init.message}`;
}

/** `http: .. retrying GET https://host/v2/ in 250 ms (HTTP 503; attempt 2 of 4)` */
export function retryLine(init: { method: string; url: URL; ms: number; why: string; next: number; attempts: number }): string {
  return `http: .. retrying ${init.method} ${redactUrl(init.url)} in ${Math.round(init.ms)} ms (${init.why}; attempt ${init.next} of ${init.attempts})`;
}
