import type { ErrorCode } from './codes.js';
import { GantryError } from './gantry-error.js';

/** One entry of the distribution spec's `{"errors":[…]}` body. */
export interface RegistryErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

export interface RegistryErrorInit {
  status: number;
  method: string;
  /** Already redacted: no userinfo, no token query parameters. */
  url: string;
  entries: RegistryErrorEntry[];
  retryAfterMs?: number;
  /** How many times the request was sent before this answer (the HTTP client's retries); default 1. */
  attempts?: number;
  cause?: unknown;
}

const RETRYABLE_CODES = new Set(['TOOMANYREQUESTS', 'UNAVAILABLE']);

/**
 * A registry answered with an error status. Carries the decoded error entries
 * so callers can branch on `MANIFEST_UNKNOWN` and friends rather than status
 * numbers, which registries use inconsistently.
 */
export class RegistryError extends GantryError {
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly entries: RegistryErrorEntry[];
  readonly retryAfterMs: number | undefined;

  constructor(init: RegistryErrorInit) {
    const { code, hint } = classify(init);
    super(code, describe(init), { hint, cause: init.cause, details: { status: init.status, method: init.method, url: init.url, errors: init.entries } });
    this.name = 'RegistryError';
    this.status = init.status;
    this.method = init.method;
    this.url = init.url;
    this.entries = init.entries;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** The registry said to try again later (rate limit, overload, server fault). */
  get retryable(): boolean {
    if (this.status === 408 || this.status === 429 || this.status >= 500) return true;
    return this.entries.some((e) => RETRYABLE_CODES.has(e.code));
  }

  /** True when any entry has one of the given distribution error codes. */
  hasCode(...codes: string[]): boolean {
    return this.entries.some((e) => codes.includes(e.code));
  }
}

function describe(init: RegistryErrorInit): string {
  const first = init.entries[0];
  const what = first ? `${first.code}${first.message ? `: ${first.message}` : ''}` : `HTTP ${init.status}`;
  return `${init.method} ${init.url}: ${what}`.replace(/[\r\n]+/g, ' ');
}

function classify(init: RegistryErrorInit): { code: ErrorCode; hint: string } {
  const { status, entries } = init;
  const codes = new Set(entries.map((e) => e.code));
  if (codes.has('TOOMANYREQUESTS') || status === 429) return { code: 'RATE_LIMITED', hint: rateLimitHint(init.retryAfterMs) };
  if (codes.has('MANIFEST_UNKNOWN')) return { code: 'MANIFEST_UNKNOWN', hint: 'Check the tag or digest: `gantry tags REPO` lists the tags.' };
  if (codes.has('NAME_UNKNOWN')) return { code: 'NAME_UNKNOWN', hint: 'Check the repository name, and that you are logged in to see private repositories.' };
  if (codes.has('BLOB_UNKNOWN')) {
    return {
      code: 'BLOB_UNKNOWN',
      hint: 'The registry does not have this blob: the image there may be incomplete or garbage-collected. Push or copy it again, or check the digest.',
    };
  }
  if (codes.has('DENIED') || status === 403)
    return { code: 'AUTH_DENIED', hint: 'Your credentials are valid but lack access: check the repository permissions.' };
  if (codes.has('UNAUTHORIZED') || status === 401)
    return { code: 'AUTH_REQUIRED', hint: 'Log in first: `gantry login REGISTRY`.' };
  if (codes.has('MANIFEST_INVALID') || codes.has('DIGEST_INVALID')) {
    return {
      code: 'MANIFEST_INVALID',
      hint: 'The registry refused the content: a manifest whose blobs were not pushed first or whose media type it does not accept, or bytes that do not match their digest.',
    };
  }
  if (codes.has('UNSUPPORTED') || status === 405)
    return { code: 'UNSUPPORTED', hint: 'The registry does not support this operation (it may be disabled in its configuration).' };
  if (status === 404) {
    return {
      code: 'NOT_FOUND',
      hint: 'Check the registry address, the repository name and the tag or digest; some registries answer 404 for private repositories until you log in.',
    };
  }
  if (status >= 500) {
    const attempts = init.attempts ?? 1;
    const times = attempts > 1 ? ` ${attempts} times in a row` : '';
    const when = init.retryAfterMs !== undefined ? `: ${retryWhen(init.retryAfterMs)}` : ': try again later';
    return { code: 'REGISTRY_ERROR', hint: `The registry failed on its side${times}${when}, or check its status.` };
  }
  return { code: 'REGISTRY_ERROR', hint: 'The registry refused the request: run with --debug to see the exchange.' };
}

function rateLimitHint(retryAfterMs: number | undefined): string {
  if (retryAfterMs === undefined) return 'The registry is rate limiting you: wait, log in for a higher allowance, or mirror the image.';
  return `The registry is rate limiting you: ${retryWhen(retryAfterMs)} (its Retry-After), log in for a higher allowance, or mirror the image.`;
}

/** `retry after 1h 30m`: the two largest units, rounded up, so the advice is never too early. */
function retryWhen(ms: number): string {
  let seconds = Math.ceil(ms / 1000);
  if (seconds <= 0) return 'retry now';
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const first = units.findIndex(([, size]) => seconds >= size);
  const shown = units.slice(first, first + 2);
  const last = shown[shown.length - 1];
  if (last) seconds = Math.ceil(seconds / last[1]) * last[1];
  const parts: string[] = [];
  for (const [unit, size] of shown) {
    const count = Math.floor(seconds / size);
    seconds -= count * size;
    if (count > 0) parts.push(`${count}${unit}`);
  }
  return `retry after ${parts.join(' ')}`;
}
