import { describe, expect, it } from 'vitest';
import { GantryError, RegistryError } from '../../../src/errors/index.js';
import { isRetryable } from '../../../src/transfer/retry.js';

const registryError = (status: number, code?: string, retryAfterMs?: number) =>
  new RegistryError({ status, method: 'GET', url: 'https://r.example/v2/', entries: code ? [{ code }] : [], ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });

describe('isRetryable', () => {
  it('retries corruption, the network, rate limits and server faults', () => {
    for (const code of ['DIGEST_MISMATCH', 'SIZE_MISMATCH', 'NETWORK', 'TIMEOUT'] as const) expect(isRetryable(new GantryError(code, 'x'))).toBe(true);
    expect(isRetryable(registryError(503))).toBe(true);
    expect(isRetryable(registryError(429, 'TOOMANYREQUESTS', 2_000))).toBe(true);
  });

  it('does not retry 401, 403 or 404, usage errors, or an interruption', () => {
    expect(isRetryable(registryError(401))).toBe(false);
    expect(isRetryable(registryError(403, 'DENIED'))).toBe(false);
    expect(isRetryable(registryError(404, 'BLOB_UNKNOWN'))).toBe(false);
    expect(isRetryable(registryError(404))).toBe(false);
    for (const code of ['USAGE', 'REFERENCE_INVALID', 'INTERRUPTED', 'UNSUPPORTED', 'TLS'] as const) expect(isRetryable(new GantryError(code, 'x'))).toBe(false);
  });

  it('does not wait out a rate limit that asks for more than a minute', () => {
    expect(isRetryable(registryError(429, 'TOOMANYREQUESTS', 3_600_000))).toBe(false);
  });

  it('retries broken streams but not programming mistakes', () => {
    expect(isRetryable(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }))).toBe(true);
    expect(isRetryable(new TypeError('x is undefined'))).toBe(false);
    expect(isRetryable('a string')).toBe(false);
  });

  it('does not retry a local file that cannot be written: another attempt meets it again', () => {
    const fsError = (code: string) => Object.assign(new Error(`${code}: nope, open '/x'`), { code, syscall: 'open', path: '/x' });
    for (const code of ['EACCES', 'ENOSPC', 'EROFS', 'ENOTDIR']) expect(isRetryable(fsError(code))).toBe(false);
    // Too many open files, a busy file: these may pass.
    for (const code of ['EMFILE', 'EBUSY']) expect(isRetryable(fsError(code))).toBe(true);
    // A socket error has no path: still a broken stream, retried.
    expect(isRetryable(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' }))).toBe(true);
  });
});
