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

  it('keeps the message on one line', () => {
    const err = new RegistryError({ status: 500, method: 'GET', url: 'u', entries: [{ code: 'X', message: 'a\nb' }] });
    expect(err.message).not.toMatch(/\n/);
  });
});
