import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ExitCode, GantryError, RegistryError, exitCodeFor } from '../../../src/errors/index.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

describe('the exit-code table', () => {
  it('documents every error code with its exit code', () => {
    for (const [code, exit] of Object.entries(ERROR_CODES)) {
      expect(doc, `docs/errors.md lacks a row for ${code}`).toMatch(new RegExp(`\\| \`${code}\` \\| ${exit} \\|`));
    }
  });

  it('maps the issue-mandated families to their exit codes', () => {
    expect(exitCodeFor('REFERENCE_INVALID')).toBe(ExitCode.USAGE);
    expect(exitCodeFor('AUTH_FAILED')).toBe(3);
    expect(exitCodeFor('MANIFEST_UNKNOWN')).toBe(4);
    expect(exitCodeFor('DIGEST_MISMATCH')).toBe(5);
    expect(exitCodeFor('TLS')).toBe(6);
    expect(exitCodeFor('INTERRUPTED')).toBe(130);
    expect(exitCodeFor('SOMETHING_NEW')).toBe(1);
  });

  it('gives GantryError its exit code and a JSON form without the cause', () => {
    const err = new GantryError('AUTH_DENIED', 'no', { hint: 'ask', cause: new Error('secret detail') });
    expect(err.exitCode).toBe(3);
    expect(JSON.stringify(err)).toBe('{"code":"AUTH_DENIED","message":"no","hint":"ask"}');
  });
});

describe('RegistryError', () => {
  const make = (status: number, codes: string[]) =>
    new RegistryError({ status, method: 'GET', url: 'https://r.example/v2/x/manifests/y', entries: codes.map((code) => ({ code, message: code.toLowerCase() })) });

  it('classifies distribution error codes over status numbers', () => {
    expect(make(404, ['MANIFEST_UNKNOWN']).code).toBe('MANIFEST_UNKNOWN');
    expect(make(404, ['NAME_UNKNOWN']).code).toBe('NAME_UNKNOWN');
    expect(make(401, ['UNAUTHORIZED']).code).toBe('AUTH_REQUIRED');
    expect(make(403, ['DENIED']).code).toBe('AUTH_DENIED');
    expect(make(429, ['TOOMANYREQUESTS']).code).toBe('RATE_LIMITED');
    expect(make(404, []).code).toBe('NOT_FOUND');
    expect(make(418, []).code).toBe('REGISTRY_ERROR');
  });

  it('knows what is worth retrying', () => {
    expect(make(503, []).retryable).toBe(true);
    expect(make(429, []).retryable).toBe(true);
    expect(make(400, ['TOOMANYREQUESTS']).retryable).toBe(true);
    expect(make(404, ['MANIFEST_UNKNOWN']).retryable).toBe(false);
    expect(make(401, ['UNAUTHORIZED']).retryable).toBe(false);
  });

  it.each([
    ['BLOB_UNKNOWN', 404, ['BLOB_UNKNOWN'], /blob/],
    ['MANIFEST_INVALID', 400, ['MANIFEST_INVALID'], /manifest/],
    ['MANIFEST_INVALID', 400, ['DIGEST_INVALID'], /digest/],
    ['NOT_FOUND', 404, [], /repository name/],
    ['REGISTRY_ERROR', 503, [], /try again later/],
    ['REGISTRY_ERROR', 400, ['SIZE_INVALID'], /--debug/],
  ])('gives %s (HTTP %i %j) a hint', (code, status, codes, hint) => {
    const err = make(status, codes);
    expect(err.code).toBe(code);
    expect(err.hint).toMatch(hint);
  });

  it('says how often a failing registry was tried', () => {
    const err = new RegistryError({ status: 503, method: 'HEAD', url: 'u', entries: [], attempts: 4 });
    expect(err.hint).toContain('4 times');
    expect(make(502, []).hint).not.toMatch(/times/);
  });

  it.each([
    [3_600_000, 'retry after 1h'],
    [5_400_000, 'retry after 1h 30m'],
    [90_000, 'retry after 1m 30s'],
    [1_500, 'retry after 2s'],
    [0, 'retry now'],
  ])('tells when to retry a rate limit with Retry-After of %i ms', (retryAfterMs, expected) => {
    const err = new RegistryError({ status: 429, method: 'GET', url: 'u', entries: [{ code: 'TOOMANYREQUESTS' }], retryAfterMs });
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.hint).toContain(expected);
  });

  it('gives a rate limit without Retry-After the general advice', () => {
    expect(make(429, []).hint).toMatch(/^The registry is rate limiting you: wait, /);
  });

  it('keeps the message on one line', () => {
    const err = new RegistryError({ status: 500, method: 'GET', url: 'u', entries: [{ code: 'X', message: 'a\nb' }] });
    expect(err.message).not.toMatch(/\n/);
  });
});
