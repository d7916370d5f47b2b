import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { delay, http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import { createHttpClient, type HttpClientOptions } from '../../../src/http/index.js';
import { startMswServer, type MswServer } from '../../helpers/msw-server.js';
import { rejection } from '../../helpers/rejection.js';

const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 2_000 };

let server: MswServer;
let other: MswServer;
const clients: Array<{ close(): Promise<void> }> = [];

function client(options: Partial<HttpClientOptions> = {}) {
  const c = createHttpClient({ userAgent: 'gantry/1.2.3', env: {}, retry: FAST_RETRY, ...options });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  server = await startMswServer();
  other = await startMswServer();
});
afterEach(async () => {
  server.reset();
  other.reset();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await server.close();
  await other.close();
});

describe('createHttpClient', () => {
  it('sends a User-Agent naming gantry, node and the OS', async () => {
    server.use(http.get(`${server.origin}/v2/`, () => HttpResponse.json({})));
    const res = await client().request({ method: 'GET', url: `${server.origin}/v2/` });
    await res.discard();
    expect(res.status).toBe(200);
    expect(server.requests[0]?.headers['user-agent']).toBe(`gantry/1.2.3 (node ${process.versions.node}; ${process.platform})`);
  });

  it('paces requests to a registry given a rate (mirror files\' rps), and no other registry', async () => {
    server.use(http.get(`${server.origin}/paced`, () => HttpResponse.text('ok')));
    const c = client({ requestRates: { [server.host]: 4 } });
    const started = performance.now();
    for (let i = 0; i < 9; i++) (await c.request({ method: 'GET', url: `${server.origin}/paced` })).body.resume();
    // 9 requests at 4 per second: 4 at once, 4 a second later, 1 two seconds later (a lower bound: load only adds).
    expect(performance.now() - started).toBeGreaterThanOrEqual(1950);
    const free = client({ requestRates: { 'elsewhere.example': 1 } });
    for (let i = 0; i < 3; i++) (await free.request({ method: 'GET', url: `${server.origin}/paced` })).body.resume();
  });

  it('reuses keep-alive connections for sequential requests to an origin', async () => {
    server.use(http.get(`${server.origin}/ping`, () => HttpResponse.text('pong')));
    const c = client();
    for (let i = 0; i < 10; i++) {
      const res = await c.request({ method: 'GET', url: `${server.origin}/ping` });
      await res.read(1024);
    }
    expect(server.requests).toHaveLength(10);
    // A request may leave before the previous socket is marked idle, so the pool can hold two.
    expect(new Set(server.requests.map((r) => r.remotePort)).size).toBeLessThanOrEqual(2);
  });

  it('keeps the connection open after a HEAD, so HEADs and GETs share one', async () => {
    server.use(
      http.head(`${server.origin}/v2/r/manifests/t`, () => new HttpResponse(null, { headers: { 'content-length': '42', 'docker-content-digest': 'sha256:x' } })),
      http.get(`${server.origin}/v2/r/manifests/t`, () => HttpResponse.text('manifest')),
    );
    const c = client();
    for (let i = 0; i < 6; i++) {
      const res = await c.request({ method: i % 2 === 0 ? 'HEAD' : 'GET', url: `${server.origin}/v2/r/manifests/t` });
      await res.read(1024);
    }
    expect(server.requests.map((r) => r.method)).toEqual(['HEAD', 'GET', 'HEAD', 'GET', 'HEAD', 'GET']);
    // Closed after each HEAD, this took at least 3 connections.
    expect(new Set(server.requests.map((r) => r.remotePort)).size).toBeLessThanOrEqual(2);
  });

  it('retries a GET on 503 and returns the eventual success', async () => {
    let calls = 0;
    server.use(
      http.get(`${server.origin}/flaky`, () => {
        calls++;
        return calls < 3 ? new HttpResponse('busy', { status: 503 }) : HttpResponse.text('ok');
      }),
    );
    const res = await client().request({ method: 'GET', url: `${server.origin}/flaky` });
    expect(res.status).toBe(200);
    expect(Buffer.from((await res.read(100)).bytes).toString()).toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up after the configured number of attempts and hands back the last response', async () => {
    server.use(http.get(`${server.origin}/down`, () => new HttpResponse('down', { status: 502 })));
    const res = await client({ retry: { ...FAST_RETRY, attempts: 3 } }).request({ method: 'GET', url: `${server.origin}/down` });
    await res.discard();
    expect(res.status).toBe(502);
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry a POST that is not marked idempotent', async () => {
    server.use(http.post(`${server.origin}/upload`, () => new HttpResponse(null, { status: 500 })));
    const res = await client().request({ method: 'POST', url: `${server.origin}/upload`, body: 'x' });
    await res.discard();
    expect(res.status).toBe(500);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a POST the caller marks idempotent, sending the body each time', async () => {
    let calls = 0;
    server.use(
      http.post(`${server.origin}/token`, async ({ request }) => {
        calls++;
        const body = await request.text();
        return calls === 1 ? new HttpResponse(null, { status: 500 }) : HttpResponse.text(body);
      }),
    );
    const res = await client().request({ method: 'POST', url: `${server.origin}/token`, body: 'grant_type=x', idempotent: true });
    expect(Buffer.from((await res.read(100)).bytes).toString()).toBe('grant_type=x');
    expect(server.requests.map((r) => r.body)).toEqual(['grant_type=x', 'grant_type=x']);
  });

  it('never retries a request whose body is a stream', async () => {
    server.use(http.put(`${server.origin}/blob`, () => new HttpResponse(null, { status: 503 })));
    const res = await client().request({
      method: 'PUT',
      url: `${server.origin}/blob`,
      body: Readable.from([Buffer.from('abc')]),
      idempotent: true,
    });
    await res.discard();
    expect(res.status).toBe(503);
    expect(server.requests).toHaveLength(1);
  });

  it('waits the Retry-After seconds of a 429 before retrying', async () => {
    let calls = 0;
    server.use(
      http.get(`${server.origin}/limited`, () => {
        calls++;
        return calls === 1 ? new HttpResponse(null, { status: 429, headers: { 'retry-after': '1' } }) : HttpResponse.text('ok');
      }),
    );
    const started = Date.now();
    const res = await client().request({ method: 'GET', url: `${server.origin}/limited` });
    await res.discard();
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('returns a 429 at once when Retry-After asks for longer than the cap', async () => {
    server.use(http.get(`${server.origin}/limited`, () => new HttpResponse(null, { status: 429, headers: { 'retry-after': '3600' } })));
    const started = Date.now();
    const res = await client().request({ method: 'GET', url: `${server.origin}/limited` });
    await res.discard();
    expect(res.status).toBe(429);
    expect(server.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('retries a connection reset and succeeds on the next attempt', async () => {
    let calls = 0;
    server.use(
      http.get(`${server.origin}/reset`, () => {
        calls++;
        return calls === 1 ? HttpResponse.error() : HttpResponse.text('ok');
      }),
    );
    const res = await client().request({ method: 'GET', url: `${server.origin}/reset` });
    await res.discard();
    expect(res.status).toBe(200);
    expect(calls).toBe(2);
  });

  it('marks a connection reset it retried to the end of its attempts as retried, for callers with retries of their own', async () => {
    server.use(http.get(`${server.origin}/reset`, () => HttpResponse.error()));
    const err = await rejection(client({ retry: { ...FAST_RETRY, attempts: 3 } }).request({ method: 'GET', url: `${server.origin}/reset` }));
    expect(err.code).toBe('NETWORK');
    expect(err.details).toMatchObject({ attempts: 3, retried: true });
    expect(server.requests).toHaveLength(3);
  });

  it('does not mark what it did not retry: a refused connection, a reset POST, a probe that may fall back', async () => {
    const port = await closedPort();
    const refused = await rejection(client().request({ method: 'GET', url: `http://127.0.0.1:${port}/v2/` }));
    expect(refused.details?.retried).toBeUndefined();
    server.use(http.post(`${server.origin}/reset`, () => HttpResponse.error()));
    const post = await rejection(client().request({ method: 'POST', url: `${server.origin}/reset`, body: 'x' }));
    expect(post.details?.retried).toBeUndefined();
    server.use(
      http.get(`${server.origin}/hang`, async () => {
        await delay(2_000);
        return HttpResponse.text('late');
      }),
    );
    const probe = await rejection(client({ timeouts: { headersMs: 100 } }).request({ method: 'GET', url: `${server.origin}/hang`, retryTimeouts: false }));
    expect(probe.code).toBe('TIMEOUT');
    expect(probe.details?.retried).toBeUndefined();
  });

  it('turns a refused connection into NETWORK naming the URL, without retrying', async () => {
    const port = await closedPort();
    const log: string[] = [];
    const err = await rejection(client({ log: (l) => log.push(l) }).request({ method: 'GET', url: `http://127.0.0.1:${port}/v2/?token=s3cret` }));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain(`http://127.0.0.1:${port}/v2/?token=[REDACTED]`);
    expect(err.message).not.toContain('s3cret');
    expect(log.filter((l) => l.startsWith('http: ->'))).toHaveLength(1);
  });

  it('turns a response that never comes into TIMEOUT after retrying', async () => {
    server.use(
      http.get(`${server.origin}/slow`, async () => {
        await delay(2_000);
        return HttpResponse.text('late');
      }),
    );
    const err = await rejection(
      client({ timeouts: { headersMs: 100 }, retry: { ...FAST_RETRY, attempts: 2 } }).request({ method: 'GET', url: `${server.origin}/slow` }),
    );
    expect(err.code).toBe('TIMEOUT');
    expect(err.details).toMatchObject({ attempts: 2, retried: true });
    expect(server.requests).toHaveLength(2);
  });

  it('waits longer for one request that asks for it', async () => {
    server.use(
      http.get(`${server.origin}/commit`, async () => {
        // Past undici's coarse timer (about 1 s) for the 100 ms default, well within the 5 s asked.
        await delay(2_000);
        return HttpResponse.text('done');
      }),
    );
    const c = client({ timeouts: { headersMs: 100 }, retry: { ...FAST_RETRY, attempts: 1 } });
    const res = await c.request({ method: 'GET', url: `${server.origin}/commit`, headersTimeoutMs: 5_000 });
    await res.discard();
    expect(res.status).toBe(200);
  });

  it('aborts during a retry wait with the signal', async () => {
    server.use(http.get(`${server.origin}/busy`, () => new HttpResponse(null, { status: 503, headers: { 'retry-after': '1' } })));
    const controller = new AbortController();
    const pending = client().request({ method: 'GET', url: `${server.origin}/busy`, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const err = await rejection(pending);
    expect(err.code).toBe('INTERRUPTED');
    expect(Date.now() - started).toBeLessThan(900);
    expect(server.requests).toHaveLength(1);
  });

  it('passes a GantryError abort reason through unchanged', async () => {
    const controller = new AbortController();
    const reason = new GantryError('INTERRUPTED', 'interrupted by the user');
    controller.abort(reason);
    const err = await rejection(client().request({ method: 'GET', url: `${server.origin}/x`, signal: controller.signal }));
    expect(err).toBe(reason);
  });

  it('aborts while a body is being read with INTERRUPTED', async () => {
    server.use(
      http.get(`${server.origin}/trickle`, () => {
        const stream = new ReadableStream({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode('first'));
            await delay(2_000);
            controller.close();
          },
        });
        return new HttpResponse(stream, { headers: { 'content-type': 'application/octet-stream' } });
      }),
    );
    const controller = new AbortController();
    const res = await client().request({ method: 'GET', url: `${server.origin}/trickle`, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const err = await rejection(res.read(1024));
    expect(err.code).toBe('INTERRUPTED');
  });

  it('follows a redirect to another origin without Authorization or cookies', async () => {
    server.use(
      http.get(`${server.origin}/v2/app/blobs/:digest`, ({ params }) =>
        new HttpResponse(null, { status: 307, headers: { location: `${other.origin}/storage/${String(params.digest)}?X-Amz-Signature=abc` } }),
      ),
    );
    other.use(http.get(`${other.origin}/storage/:digest`, () => HttpResponse.text('blob bytes')));
    const res = await client().request({
      method: 'GET',
      url: `${server.origin}/v2/app/blobs/sha256:aa`,
      headers: { Authorization: 'Bearer secret-token', cookie: 'session=1', range: 'bytes=0-' },
    });
    expect(Buffer.from((await res.read(100)).bytes).toString()).toBe('blob bytes');
    expect(res.url).toBe(`${other.origin}/storage/sha256:aa?X-Amz-Signature=abc`);
    expect(server.requests[0]?.headers.authorization).toBe('Bearer secret-token');
    const hop = other.requests[0];
    expect(hop?.headers.authorization).toBeUndefined();
    expect(hop?.headers.cookie).toBeUndefined();
    expect(hop?.headers.range).toBe('bytes=0-');
  });

  it('keeps Authorization on a redirect within the same origin', async () => {
    server.use(
      http.get(`${server.origin}/a`, () => new HttpResponse(null, { status: 302, headers: { location: '/b' } })),
      http.get(`${server.origin}/b`, () => HttpResponse.text('b')),
    );
    const res = await client().request({ method: 'GET', url: `${server.origin}/a`, headers: { authorization: 'Bearer t0ken' } });
    await res.discard();
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer t0ken', 'Bearer t0ken']);
  });

  it('stops a redirect loop after the redirect limit', async () => {
    server.use(http.get(`${server.origin}/loop`, () => new HttpResponse(null, { status: 302, headers: { location: '/loop' } })));
    const err = await rejection(client({ maxRedirects: 3 }).request({ method: 'GET', url: `${server.origin}/loop` }));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain('more than 3 redirects');
    expect(server.requests).toHaveLength(4);
  });

  it('hands back a redirect unfollowed when asked to', async () => {
    server.use(http.get(`${server.origin}/a`, () => new HttpResponse(null, { status: 307, headers: { location: '/b' } })));
    const res = await client().request({ method: 'GET', url: `${server.origin}/a`, followRedirects: false });
    await res.discard();
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe('/b');
  });

  it('refuses to send credentials over plain HTTP for a registry not marked insecure', async () => {
    const err = await rejection(
      client().request({
        method: 'GET',
        url: `${server.origin}/v2/`,
        headers: { authorization: 'Basic dXNlcjpwYXNz' },
        registry: 'registry.example.com',
      }),
    );
    expect(err.code).toBe('INSECURE_CREDENTIALS');
    expect(err.message).not.toContain('dXNlcjpwYXNz');
    expect(server.requests).toHaveLength(0);
  });

  it('sends credentials over plain HTTP to a registry marked insecure, and to loopback', async () => {
    server.use(http.get(`${server.origin}/v2/`, () => HttpResponse.json({})));
    const marked = await client({ insecure: ['registry.example.com'] }).request({
      method: 'GET',
      url: `${server.origin}/v2/`,
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
      registry: 'registry.example.com',
    });
    await marked.discard();
    const loopback = await client().request({
      method: 'GET',
      url: `${server.origin}/v2/`,
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
      registry: server.host,
    });
    await loopback.discard();
    expect(server.requests).toHaveLength(2);
  });

  it('sends anonymous requests over plain HTTP wherever the caller points it', async () => {
    server.use(http.get(`${server.origin}/v2/`, () => HttpResponse.json({})));
    const res = await client().request({ method: 'GET', url: `${server.origin}/v2/`, registry: 'registry.example.com' });
    await res.discard();
    expect(res.status).toBe(200);
  });

  it('logs one line per request and response with credentials and signed URLs redacted', async () => {
    server.use(
      http.get(`${server.origin}/v2/`, () =>
        new HttpResponse(null, { status: 307, headers: { location: `${server.origin}/next?X-Amz-Signature=sig123&X-Amz-Credential=cred456` } }),
      ),
      http.get(`${server.origin}/next`, () => HttpResponse.json({}, { headers: { 'docker-content-digest': 'sha256:ab' } })),
    );
    const lines: string[] = [];
    const res = await client({ log: (l) => lines.push(l) }).request({
      method: 'GET',
      url: `${server.origin}/v2/?token=tok789`,
      headers: { authorization: 'Bearer tok789' },
    });
    await res.discard();
    const text = lines.join('\n');
    expect(lines).toHaveLength(4);
    expect(text).toContain('authorization: Bearer [REDACTED]');
    expect(text).toContain('307 GET');
    expect(text).toContain('docker-content-digest: sha256:ab');
    for (const secret of ['tok789', 'sig123', 'cred456']) expect(text).not.toContain(secret);
  });

  it('exposes repeated headers both joined and one by one', async () => {
    server.use(
      http.get(`${server.origin}/v2/`, () => {
        const headers = new Headers();
        headers.append('link', '</a>; rel="next"');
        headers.append('www-authenticate', 'Bearer realm="https://auth.example/token"');
        return new HttpResponse(null, { status: 401, headers });
      }),
    );
    const res = await client().request({ method: 'GET', url: `${server.origin}/v2/` });
    await res.discard();
    expect(res.headers['www-authenticate']).toBe('Bearer realm="https://auth.example/token"');
    expect(res.headerValues('WWW-Authenticate')).toEqual(['Bearer realm="https://auth.example/token"']);
    expect(res.headerValues('x-missing')).toEqual([]);
  });

  it('reads a body up to a cap and reports truncation', async () => {
    server.use(http.get(`${server.origin}/big`, () => HttpResponse.text('x'.repeat(10_000))));
    const res = await client().request({ method: 'GET', url: `${server.origin}/big` });
    const { bytes, truncated } = await res.read(100);
    expect(bytes.byteLength).toBe(100);
    expect(truncated).toBe(true);
  });

  it('runs many requests concurrently on one client', async () => {
    server.use(
      http.get(`${server.origin}/slow/:n`, async ({ params }) => {
        await delay(150);
        return HttpResponse.text(String(params.n));
      }),
    );
    const c = client();
    const started = Date.now();
    const bodies = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await c.request({ method: 'GET', url: `${server.origin}/slow/${i}` });
        return Buffer.from((await res.read(100)).bytes).toString();
      }),
    );
    expect(bodies).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    // Sequentially this would take 3 s.
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});

/** A port on 127.0.0.1 with nothing listening. */
async function closedPort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
