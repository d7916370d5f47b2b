import { describe, expect, it } from 'vitest';
import { REDACTED, redactHeader, redactSecrets, redactUrl } from '../../../src/internal/redact.js';

describe('redactUrl', () => {
  it.each([
    ['https://production.cloudflare.docker.com/registry-v2/docker/registry/v2/blobs/sha256/ab/abc/data?verify=1700000000-AbCdEf', 'verify'],
    ['https://bucket.s3.amazonaws.com/blob?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA', 'X-Amz-Signature'],
    ['https://storage.googleapis.com/b/o?X-Goog-Signature=abc&GoogleAccessId=svc', 'X-Goog-Signature'],
    ['https://acct.blob.core.windows.net/c/b?sv=2020&se=2030&sig=secret', 'sig'],
    ['https://d111.cloudfront.net/x?Policy=eyJ&Signature=abc&Key-Pair-Id=K2', 'Signature'],
    ['https://auth.example/token?service=r&access_token=abc', 'access_token'],
  ])('hides the signature of %s', (url, key) => {
    const out = redactUrl(url);
    expect(out).toContain(`${key}=${REDACTED}`);
    expect(out).not.toMatch(/deadbeef|AbCdEf|=secret|=abc\b/);
  });

  it('hides userinfo and keeps harmless parameters', () => {
    expect(redactUrl('https://bob:hunter2@r.example/v2/?n=100&last=x')).toBe(`https://${REDACTED}@r.example/v2/?n=100&last=x`);
  });

  it('passes non-URLs through', () => {
    expect(redactUrl('not a url')).toBe('not a url');
  });
});

describe('redactHeader and redactSecrets', () => {
  it('keeps the scheme of Authorization and hides the rest', () => {
    expect(redactHeader('Authorization', 'Bearer eyJhbGciOi')).toBe(`Bearer ${REDACTED}`);
    expect(redactHeader('Content-Type', 'application/json')).toBe('application/json');
  });

  it('replaces known secrets in free text', () => {
    expect(redactSecrets('pw is hunter2!', ['hunter2'])).toBe(`pw is ${REDACTED}!`);
  });
});
