import { createHash } from 'node:crypto';
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js';
import { buildOciLayout } from '../../helpers/oci-fixtures.js';
import { freePort } from '../../helpers/ports.js';
import { startRegistry } from '../../helpers/registry.js';
import { skopeoCopy, skopeoDigest } from '../../helpers/skopeo.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/** A deterministic, non-repeating-looking payload big enough to arrive in several chunks. */
const BLOB = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 131 + (i >> 8)) % 251));
const BLOB_DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}`;
const CHUNKS = ['alpha-', 'bravo-', 'charlie-', 'delta'];

let upstream: Server;
let upstreamUrl: string;
let upstreamConnections = 0;
const upstreamSeen: Array<{ method: string; url: string }> = [];
let proxy: FaultProxy;

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The tiny registry-shaped upstream the proxy forwards to. */
function startUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    upstreamSeen.push({ method: req.method ?? '', url });
    if (url === '/blob') {
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const from = range ? Number(range[1]) : 0;
      const body = BLOB.subarray(from);
      res.writeHead(range ? 206 : 200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(body.length),
        'Docker-Content-Digest': BLOB_DIGEST,
        ...(range ? { 'Content-Range': `bytes ${from}-${BLOB.length - 1}/${BLOB.length}` } : {}),
      });
      res.end(body);
    } else if (url === '/chunked') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      for (const c of CHUNKS) res.write(c);
      res.end();
    } else if (url === '/absent') {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}');
    } else if (url === '/auth') {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${upstreamUrl}/token",service="up",scope="repository:a/b:pull"`, 'Content-Length': '0' });
      res.end();
    } else if (url.startsWith('/uploads')) {
      // Registries answer uploads with absolute Locations built from Host (distribution's URL builder).
      const location = url === '/uploads/relative' ? '/v2/a/b/blobs/uploads/rel?_state=x' : url === '/uploads/foreign' ? 'http://elsewhere.example/v2/x' : `${upstreamUrl}/v2/a/b/blobs/uploads/u1?_state=a%2Bb%3D`;
      res.writeHead(202, { Location: location, Range: '0-0', Link: `<${upstreamUrl}/v2/_catalog?n=1&last=a>; rel="next"`, 'Content-Length': '0' });
      res.end();
      req.resume();
    } else {
      // Echo: what arrived, hashed, so tests see exactly what was forwarded.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.stringify({ method: req.method, url, rawHeaders: req.rawHeaders, length: Buffer.concat(chunks).length, digest: sha256(Buffer.concat(chunks)) });
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Upstream': 'echo' });
        res.end(body);
      });
    }
  });
  server.on('connection', () => {
    upstreamConnections++;
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** How the response body ended: `end`, or the error (premature close). */
  ended: 'end' | 'error';
  reusedSocket: boolean;
}

/** A raw node client request through the proxy; never rejects once a response head arrived. */
function call(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string | string[]; agent?: Agent; onData?: (c: Buffer, res: IncomingMessage) => void; via?: FaultProxy } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${(options.via ?? proxy).url}${path}`, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: options.agent ?? false, timeout: 5_000 });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      const done = (ended: 'end' | 'error'): void =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ended, reusedSocket: req.reusedSocket });
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        options.onData?.(c, res);
      });
      res.on('end', () => done('end'));
      res.on('error', () => done('error'));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${path}`)));
    req.on('error', reject);
    if (Array.isArray(options.body)) {
      for (const part of options.body) req.write(part);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

beforeAll(async () => {
  upstream = await startUpstream();
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  proxy = await startFaultProxy({ upstream: upstreamUrl });
});

afterEach(() => {
  proxy.reset();
  upstreamSeen.length = 0;
});

afterAll(async () => {
  await proxy.close();
  await new Promise<void>((resolve) => {
    upstream.close(() => resolve());
    upstream.closeAllConnections();
  });
});

describe('forwarding', () => {
  it('streams a GET body byte for byte with the registry headers, and a HEAD with headers only', async () => {
    const get = await call('/blob');
    expect(get.status).toBe(200);
    expect(sha256(get.body)).toBe(BLOB_DIGEST);
    expect(get.headers['docker-content-digest']).toBe(BLOB_DIGEST);
    expect(get.headers['content-length']).toBe(String(BLOB.length));
    const head = await call('/blob', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(String(BLOB.length));
    await proxy.settled();
    expect(proxy.requests.map((r) => [r.method, r.path, r.status, r.bytesOut, r.done, r.aborted])).toEqual([
      ['GET', '/blob', 200, BLOB.length, true, false],
      ['HEAD', '/blob', 200, 0, true, false],
    ]);
  });

  it('forwards a chunked upstream body intact', async () => {
    const reply = await call('/chunked');
    expect(reply.body.toString()).toBe(CHUNKS.join(''));
    expect(reply.ended).toBe('end');
  });

  it.each(['PUT', 'PATCH', 'POST'])('forwards %s bodies, sized or chunked, with their headers and the upstream Host', async (method) => {
    const sized = await call('/echo?digest=sha256%3Aabc', { method, body: BLOB, headers: { 'Content-Type': 'application/octet-stream', 'X-Trace': 'one' } });
    const echo = JSON.parse(sized.body.toString()) as { method: string; url: string; rawHeaders: string[]; length: number; digest: string };
    expect(echo).toMatchObject({ method, url: '/echo?digest=sha256%3Aabc', length: BLOB.length, digest: BLOB_DIGEST });
    const headers = Object.fromEntries(Array.from({ length: echo.rawHeaders.length / 2 }, (_, i) => [echo.rawHeaders[2 * i]?.toLowerCase(), echo.rawHeaders[2 * i + 1]]));
    expect(headers).toMatchObject({ host: upstreamUrl.slice('http://'.length), 'x-trace': 'one', 'content-length': String(BLOB.length) });
    expect(sized.headers['x-upstream']).toBe('echo');

    const chunked = await call('/echo', { method, body: ['one,', 'two,', 'three'] });
    expect(JSON.parse(chunked.body.toString())).toMatchObject({ length: 13, digest: sha256(Buffer.from('one,two,three')) });
    await proxy.settled();
    expect(proxy.requests.map((r) => r.bytesIn)).toEqual([BLOB.length, 13]);
  });

  it('passes Range and Content-Range through and records the Range asked for', async () => {
    const reply = await call('/blob', { headers: { Range: 'bytes=1000-' } });
    expect(reply.status).toBe(206);
    expect(reply.headers['content-range']).toBe(`bytes 1000-${BLOB.length - 1}/${BLOB.length}`);
    expect(reply.body.equals(BLOB.subarray(1000))).toBe(true);
    expect(proxy.requests[0]?.range).toBe('bytes=1000-');
  });

  it('rewrites absolute upstream URLs in Location and Link to the proxy, leaving others and WWW-Authenticate alone', async () => {
    const absolute = await call('/uploads', { method: 'POST' });
    expect(absolute.status).toBe(202);
    expect(absolute.headers.location).toBe(`${proxy.url}/v2/a/b/blobs/uploads/u1?_state=a%2Bb%3D`);
    expect(absolute.headers.link).toBe(`<${proxy.url}/v2/_catalog?n=1&last=a>; rel="next"`);
    expect(absolute.headers.range).toBe('0-0');
    expect((await call('/uploads/relative', { method: 'POST' })).headers.location).toBe('/v2/a/b/blobs/uploads/rel?_state=x');
    expect((await call('/uploads/foreign', { method: 'POST' })).headers.location).toBe('http://elsewhere.example/v2/x');
    const auth = await call('/auth');
    expect(auth.status).toBe(401);
    expect(auth.headers['www-authenticate']).toBe(`Bearer realm="${upstreamUrl}/token",service="up",scope="repository:a/b:pull"`);
  });

  it('keeps client and upstream connections alive across requests', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = upstreamConnections;
      const replies = [];
      for (let i = 0; i < 3; i++) replies.push(await call('/blob', { agent }));
      expect(replies.map((r) => r.reusedSocket)).toEqual([false, true, true]);
      expect(upstreamConnections - before).toBeLessThanOrEqual(1);
    } finally {
      agent.destroy();
    }
  });

  it('answers 502 when the upstream is unreachable', async () => {
    const dead = await startFaultProxy({ upstream: `http://127.0.0.1:${await freePort()}` });
    try {
      const reply = await new Promise<number>((resolve, reject) => {
        request(`${dead.url}/v2/`, { agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
      expect(reply).toBe(502);
      expect(dead.requests[0]?.upstreamError).toMatch(/ECONNREFUSED/);
    } finally {
      await dead.close();
    }
  });

  it('refuses an upstream that is not a plain http origin', async () => {
    await expect(startFaultProxy({ upstream: 'https://127.0.0.1:5000' })).rejects.toThrow(/http:\/\/ origin/);
    await expect(startFaultProxy({ upstream: 'http://127.0.0.1:5000/v2' })).rejects.toThrow(/http:\/\/ origin/);
  });
});

describe('records', () => {
  it('counts by method and path, and forgets on reset', async () => {
    await call('/blob');
    await call('/blob', { method: 'HEAD' });
    await call('/echo', { method: 'PUT', body: 'x' });
    await proxy.settled();
    expect(proxy.count()).toBe(3);
    expect(proxy.count({ method: 'get' })).toBe(1);
    expect(proxy.count({ path: /^\/blob$/ })).toBe(2);
    expect(proxy.count({ method: 'HEAD', path: /blob/g })).toBe(1);
    expect(proxy.count({ method: 'HEAD', path: /blob/g })).toBe(1);
    proxy.reset();
    expect(proxy.count()).toBe(0);
    expect(proxy.requests).toEqual([]);
  });
});

describe('faults', () => {
  it('answers a status rule without the upstream, only `times` times, with the given headers', async () => {
    const handle = proxy.rule({ match: { path: /^\/blob$/ }, times: 2, action: 'status', status: 503, headers: { 'Retry-After': '1' } });
    const first = await call('/blob');
    const second = await call('/blob', { method: 'PUT', body: BLOB });
    const third = await call('/blob');
    expect([first.status, second.status, third.status]).toEqual([503, 503, 200]);
    expect(first.headers['retry-after']).toBe('1');
    expect(JSON.parse(first.body.toString())).toMatchObject({ errors: [{ code: 'UNAVAILABLE' }] });
    expect(handle.hits).toBe(2);
    expect(handle.remaining).toBe(0);
    expect(upstreamSeen).toEqual([{ method: 'GET', url: '/blob' }]);
    await proxy.settled();
    expect(proxy.requests.map((r) => [r.status, r.fault, r.bytesIn])).toEqual([
      [503, 'status', 0],
      [503, 'status', BLOB.length],
      [200, undefined, 0],
    ]);
  });

  it('checks rules in order and moves past a spent one', async () => {
    proxy.rule({ match: { method: 'GET' }, times: 1, action: 'status', status: 429 });
    proxy.rule({ match: { method: 'GET' }, times: 1, action: 'status', status: 500, body: 'boom' });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('/chunked')).status);
    expect(statuses).toEqual([429, 500, 200]);
  });

  it('flips exactly the byte at atByte, once, and keeps the length', async () => {
    const handle = proxy.rule({ match: { path: /^\/blob$/ }, times: 1, action: 'corrupt', atByte: 200_000 });
    const bad = await call('/blob');
    expect(bad.body.length).toBe(BLOB.length);
    const differing: number[] = [];
    for (let i = 0; i < BLOB.length; i++) if (bad.body[i] !== BLOB[i]) differing.push(i);
    expect(differing).toEqual([200_000]);
    expect(bad.body[200_000]).toBe((BLOB[200_000] as number) ^ 0xff);
    expect(handle.hits).toBe(1);
    expect(sha256((await call('/blob')).body)).toBe(BLOB_DIGEST);
    expect(proxy.requests[0]?.fault).toBe('corrupt');
  });

  it('spends no body-fault budget on responses without a 2xx body', async () => {
    const handle = proxy.rule({ match: { method: 'GET' }, times: 1, action: 'corrupt', atByte: 0 });
    expect((await call('/absent')).status).toBe(404);
    expect((await call('/blob', { method: 'HEAD' })).status).toBe(200);
    expect(handle.hits).toBe(0);
    const bad = await call('/blob');
    expect(bad.body[0]).not.toBe(BLOB[0]);
    expect(handle.hits).toBe(1);
  });

  it('truncates a sized body after afterBytes with a premature close', async () => {
    proxy.rule({ match: { path: /^\/blob$/ }, times: 1, action: 'truncate', afterBytes: 100_000 });
    const cut = await call('/blob');
    expect(cut.status).toBe(200);
    expect(cut.ended).toBe('error');
    expect(cut.body.equals(BLOB.subarray(0, 100_000))).toBe(true);
    await proxy.settled();
    expect(proxy.requests[0]).toMatchObject({ fault: 'truncate', bytesOut: 100_000, aborted: true, done: true });
    const whole = await call('/blob');
    expect(whole.ended).toBe('end');
    expect(whole.body.length).toBe(BLOB.length);
  });

  it('truncates a chunked body, even at zero bytes, with a premature close', async () => {
    proxy.rule({ match: { path: /^\/chunked$/ }, times: 1, action: 'truncate', afterBytes: 8 });
    proxy.rule({ match: { path: /^\/blob$/ }, times: 1, action: 'truncate', afterBytes: 0 });
    const chunked = await call('/chunked');
    expect(chunked.ended).toBe('error');
    expect(chunked.body.toString()).toBe(CHUNKS.join('').slice(0, 8));
    const empty = await call('/blob');
    expect(empty.status).toBe(200);
    expect(empty.ended).toBe('error');
    expect(empty.body.length).toBe(0);
  });

  it('stalls after afterBytes for ms, then sends the rest', async () => {
    proxy.rule({ match: { path: /^\/blob$/ }, times: 1, action: 'stall', afterBytes: 5_000, ms: 400 });
    const started = Date.now();
    let receivedAt100ms: number | undefined;
    let received = 0;
    const reply = await call('/blob', {
      onData: (c) => {
        if (received === 0) setTimeout(() => (receivedAt100ms = received), 100);
        received += c.length;
      },
    });
    expect(receivedAt100ms).toBe(5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(reply.ended).toBe('end');
    expect(sha256(reply.body)).toBe(BLOB_DIGEST);
  });

  it('resets the connection without answering or asking the upstream', async () => {
    proxy.rule({ match: { method: 'GET' }, times: 1, action: 'reset' });
    await expect(call('/blob')).rejects.toMatchObject({ code: 'ECONNRESET', syscall: 'read' });
    expect(upstreamSeen).toEqual([]);
    await proxy.settled();
    expect(proxy.requests[0]).toMatchObject({ status: 0, fault: 'reset', aborted: true, done: true });
    expect((await call('/blob')).status).toBe(200);
  });

  it('withdraws a removed rule and rejects malformed ones', async () => {
    const handle = proxy.rule({ action: 'status', status: 500 });
    handle.remove();
    expect((await call('/chunked')).status).toBe(200);
    expect(() => proxy.rule({ action: 'status', status: 500, times: 0 })).toThrow(/times/);
    expect(() => proxy.rule({ action: 'corrupt', atByte: -1 })).toThrow(/atByte/);
    expect(() => proxy.rule({ action: 'stall', afterBytes: 0, ms: 1.5 })).toThrow(/ms/);
    expect(() => proxy.rule({ action: 'status', status: 99 })).toThrow(/status/);
  });
});

describe('in front of a real registry', () => {
  it('carries a skopeo push through the upload Locations, and corrupts a pulled layer on request', async () => {
    const registry = await startRegistry({ mode: 'plain' });
    const front = await startFaultProxy({ upstream: registry.url });
    const dir = await makeTempDir('fault-proxy');
    try {
      const layout = await buildOciLayout(dir, { tag: 'v1', layers: 2, layerSize: 64 * 1024, seed: 'fault-proxy', mediaTypes: 'oci' });
      await skopeoCopy(layout.transportRef, `docker://${front.host}/fp/app:v1`, { destTlsVerify: false, timeoutMs: 20_000 });
      expect(await skopeoDigest(`docker://${registry.host}/fp/app:v1`, { tlsVerify: false })).toBe(layout.digest);

      // distribution answers uploads with absolute Locations naming the upstream; had the proxy not
      // rewritten them, skopeo's PATCH and PUT would have reached the registry around it.
      const finishes = /\/blobs\/uploads\/[^?]+\?.*digest=/;
      const logged = (await registry.accessLog()).filter((e) => e.method === 'PUT' && finishes.test(e.path));
      const blobCount = layout.images.reduce((n, image) => n + image.layers.length + 1, 0);
      expect(logged).toHaveLength(blobCount);
      await front.settled();
      expect(front.count({ method: 'PUT', path: finishes })).toBe(blobCount);
      expect(front.count({ method: 'PUT', path: /\/manifests\/v1$/ })).toBe(1);

      const layer = layout.images[0]?.layers[0]?.descriptor;
      if (!layer) throw new Error('fixture without a layer');
      front.rule({ match: { method: 'GET', path: /\/blobs\/sha256:/ }, times: 1, action: 'corrupt', atByte: 10 });
      const bad = await call(`/v2/fp/app/blobs/${layer.digest}`, { via: front });
      expect(bad.status).toBe(200);
      expect(bad.body.length).toBe(layer.size);
      expect(sha256(bad.body)).not.toBe(layer.digest);
      expect(sha256((await call(`/v2/fp/app/blobs/${layer.digest}`, { via: front })).body)).toBe(layer.digest);
    } finally {
      await front.close();
      await registry.stop();
      await removeTempDir(dir);
    }
  });
});
