import { createServer } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RegistryError } from '../../../src/errors/index.js';
import { createHttpClient, decodeEntries, readRegistryError } from '../../../src/http/index.js';
import { createResponse } from '../../../src/http/response.js';

function response(status: number, body: string, headers: Record<string, string> = {}, url = 'https://r.example/v2/app/manifests/x?token=abc') {
  return createResponse({ status, headers, method: 'GET', url, body: Readable.from([Buffer.from(body)]) });
}

describe('readRegistryError', () => {
  it('decodes the distribution error body and redacts the URL', async () => {
    const body = JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } }] });
    const err = await readRegistryError(response(404, body), 'GET');
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.code).toBe('MANIFEST_UNKNOWN');
    expect(err.entries).toEqual([{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } }]);
    expect(err.url).toBe('https://r.example/v2/app/manifests/x?token=[REDACTED]');
  });

  it('carries Retry-After of a 429 and classifies it as RATE_LIMITED', async () => {
    const err = await readRegistryError(response(429, '{"errors":[{"code":"TOOMANYREQUESTS"}]}', { 'retry-after': '30' }), 'GET');
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.retryAfterMs).toBe(30_000);
    expect(err.retryable).toBe(true);
  });

  it('assumes the given not-found code for a 404 without a body', async () => {
    const err = await readRegistryError(response(404, ''), 'HEAD', { notFoundCode: 'MANIFEST_UNKNOWN' });
    expect(err.code).toBe('MANIFEST_UNKNOWN');
    expect(err.status).toBe(404);
  });

  it('classifies a body that is not JSON by status alone', async () => {
    const err = await readRegistryError(response(502, '<html>Bad Gateway</html>'), 'GET');
    expect(err.code).toBe('REGISTRY_ERROR');
    expect(err.entries).toEqual([]);
  });

  it("says in the hint how many times the client tried a failing registry, and when a rate limit ends", async () => {
    const server = createServer((req, res) => {
      if (req.url === '/limited') res.writeHead(429, { 'retry-after': '3600' }).end();
      else res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    const http = createHttpClient({ userAgent: 'test', retry: { baseDelayMs: 1, maxDelayMs: 2 } });
    try {
      const failing = await http.request({ method: 'HEAD', url: `http://127.0.0.1:${address.port}/v2/x/manifests/1` });
      const err = await readRegistryError(failing, 'HEAD');
      expect(err.code).toBe('REGISTRY_ERROR');
      expect(err.hint).toContain('4 times in a row');
      const limited = await http.request({ method: 'GET', url: `http://127.0.0.1:${address.port}/limited` });
      expect((await readRegistryError(limited, 'GET')).hint).toContain('retry after 1h');
    } finally {
      await http.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('reads no more than 64 KiB of an error body', async () => {
    const huge = `{"errors":[{"code":"DENIED","message":"${'x'.repeat(200_000)}"}]}`;
    const err = await readRegistryError(response(403, huge), 'GET');
    // Truncated JSON does not parse: classified by status.
    expect(err.entries).toEqual([]);
    expect(err.code).toBe('AUTH_DENIED');
  });

  it('marks a retryable status the client sent more than once as retried to the end, and nothing else', async () => {
    const answered = (status: number, attempts: number) =>
      createResponse({ status, headers: {}, method: 'GET', url: 'https://r.example/v2/app/blobs/sha256:1', body: Readable.from([]), attempts });
    const exhausted = await readRegistryError(answered(503, 4), 'GET');
    expect(exhausted.details).toMatchObject({ status: 503, attempts: 4, retried: true });
    expect(exhausted.hint).toContain('4 times in a row');
    // Sent once: a request the client could not repeat (a stream body), or a policy of one attempt.
    expect((await readRegistryError(answered(503, 1), 'GET')).details?.retried).toBeUndefined();
    // Retried, then answered with a status the client does not retry: not its budget that ended it.
    expect((await readRegistryError(answered(404, 2), 'GET')).details?.retried).toBeUndefined();
  });
});

describe('decodeEntries', () => {
  it('keeps well-formed entries only and strips line breaks from messages', () => {
    const body = JSON.stringify({ errors: [{ code: 'denied', message: 'a\nb' }, { message: 'no code' }, 'junk', { code: 'UNAUTHORIZED' }] });
    expect(decodeEntries(Buffer.from(body))).toEqual([{ code: 'DENIED', message: 'a b' }, { code: 'UNAUTHORIZED' }]);
    expect(decodeEntries(Buffer.from('{"errors":"nope"}'))).toEqual([]);
    expect(decodeEntries(Buffer.from('null'))).toEqual([]);
  });
});
