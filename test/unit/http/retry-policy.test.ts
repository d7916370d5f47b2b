import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY, isReplayable, isRetryableStatus, parseRetryAfter } from '../../../src/http/index.js';

describe('backoffDelay', () => {
  it('draws below a ceiling that doubles per retry up to the maximum (full jitter)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (retry, r) => {
        const options = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 3_000, random: () => r };
        const ceiling = Math.min(3_000, 100 * 2 ** (retry - 1));
        const delay = backoffDelay(retry, options);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
        expect(delay).toBe(Math.floor(r * ceiling));
      }),
    );
  });

  it('grows with the retry number for the same draw', () => {
    const options = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 10_000, random: () => 0.5 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, options))).toEqual([50, 100, 200, 400]);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
  });

  it('ignores absent and unparseable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('isRetryableStatus', () => {
  it('retries timeouts, rate limits and server faults but not client errors or 501', () => {
    for (const status of [408, 429, 500, 502, 503, 504]) expect(isRetryableStatus(status)).toBe(true);
    for (const status of [200, 301, 400, 401, 403, 404, 416, 501, 505]) expect(isRetryableStatus(status)).toBe(false);
  });
});

describe('isReplayable', () => {
  it('repeats GET and HEAD always, other methods only when marked idempotent', () => {
    expect(isReplayable('get', undefined)).toBe(true);
    expect(isReplayable('HEAD', false)).toBe(true);
    expect(isReplayable('PUT', undefined)).toBe(false);
    expect(isReplayable('PUT', true)).toBe(true);
  });
});
