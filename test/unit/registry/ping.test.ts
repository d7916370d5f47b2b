import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryClient, type RegistryClientOptions } from '../../../src/registry/index.js';
import { startMswServer, type MswServer } from '../../helpers/msw-server.js';
import { freePort } from '../../helpers/ports.js';

let server: MswServer;
const clients: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  server = await startMswServer();
});
afterEach(async () => {
  server.reset();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => server.close());

function client(options: RegistryClientOptions = {}) {
  const c = createRegistryClient({ version: 'test', env: {}, retry: { baseDelayMs: 1, maxDelayMs: 2 }, ...options });
  clients.push(c);
  return c;
}

describe('ping', () => {
  it('asks a loopback registry over plain HTTP first, with no TLS attempt', async () => {
    server.use(http.get(`${server.origin}/v2/`, () => HttpResponse.json({})));
    const lines: string[] = [];
    const result = await client({ log: (l) => lines.push(l) }).ping(server.host);
    expect(result).toEqual({ registry: server.host, baseUrl: `http://${server.host}`, status: 200, challenges: [] });
    expect(server.requests).toHaveLength(1);
    expect(lines.some((l) => l.includes('https://'))).toBe(false);
  });

  it('falls back to plain HTTP for a loopback registry marked insecure whose HTTPS attempt fails', async () => {
    server.use(http.get(`${server.origin}/v2/`, () => HttpResponse.json({})));
    const lines: string[] = [];
    const result = await client({ insecure: [server.host], log: (l) => lines.push(l) }).ping(server.host);
    expect(result).toEqual({ registry: server.host, baseUrl: `http://${server.host}`, status: 200, challenges: [] });
    expect(lines.some((l) => l.includes(`https://${server.host} failed (TLS)`))).toBe(true);
  });

  it('retries a loopback registry that answers the plain probe with a 503, over plain HTTP', async () => {
    let calls = 0;
    server.use(http.get(`${server.origin}/v2/`, () => (++calls === 1 ? new HttpResponse(null, { status: 503 }) : HttpResponse.json({}))));
    const lines: string[] = [];
    const result = await client({ log: (l) => lines.push(l) }).ping(server.host);
    expect(result).toMatchObject({ baseUrl: `http://${server.host}`, status: 200 });
    expect(calls).toBe(2);
    expect(lines.some((l) => l.includes('https://'))).toBe(false);
  });

  it('asks a loopback registry named without a port over HTTPS first: :443 and :80 may be different services', async () => {
    const lines: string[] = [];
    await client({ log: (l) => lines.push(l), retry: { attempts: 1 }, timeouts: { connectMs: 500 } })
      .ping('localhost')
      .catch(() => undefined);
    const first = lines.find((l) => /GET https?:\/\/localhost/.test(l));
    expect(first).toMatch(/GET https:\/\/localhost\/v2\//);
  });

  it('reports the plain-HTTP attempt first when nothing listens on a loopback port', async () => {
    const host = `127.0.0.1:${await freePort()}`;
    const err = await client({ retry: { attempts: 1 } }).ping(host).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'NETWORK', message: expect.stringMatching(new RegExp(`^GET http://${host}/v2/: .*\\(HTTPS failed too: GET https://${host}/v2/`)) });
    // Loopback never goes through a proxy: the hint does not send the user looking at one.
    expect((err as { hint?: string }).hint).toMatch(/registry is running/);
  });

  it('names an HTTP server that is no registry as such, not as a TLS failure', async () => {
    server.use(http.get(`${server.origin}/v2/`, () => new HttpResponse('not here', { status: 404 })));
    for (const options of [{}, { insecure: [server.host] }]) {
      const err = await client(options).ping(server.host).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'REGISTRY_ERROR', message: `http://${server.host}/v2/ answered HTTP 404: no registry API there (HTTPS: TLS)` });
    }
  });

  it('reports a loopback registry that keeps answering 503 as such, after the usual 4 tries', async () => {
    let calls = 0;
    server.use(
      http.get(`${server.origin}/v2/`, () => {
        calls++;
        return new HttpResponse(null, { status: 503 });
      }),
    );
    const err = await client().ping(server.host).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'REGISTRY_ERROR' });
    expect(calls).toBe(4);
  });

  it('goes on to HTTPS when the plain probe of a loopback port finds no registry', async () => {
    // A plain port that redirects to https:// is an HTTPS registry: the plain probe does not follow it.
    server.use(http.get(`${server.origin}/v2/`, () => new HttpResponse(null, { status: 308, headers: { location: `https://${server.host}/v2/` } })));
    const err = await client().ping(server.host).then(
      () => undefined,
      (e: unknown) => e,
    );
    // HTTPS is tried and fails (this server speaks plain HTTP): its error, noting what plain HTTP got.
    expect(err).toMatchObject({ code: 'TLS', message: expect.stringContaining('plain HTTP failed too: HTTP 308') });
    expect(server.requests).toHaveLength(1);
  });

  it('probes once per registry and shares the probe between concurrent callers', async () => {
    server.use(http.get(`${server.origin}/v2/`, () => HttpResponse.json({})));
    const c = client({ endpoint: () => server.origin });
    const results = await Promise.all([c.ping('a.example'), c.ping('a.example'), c.ping('a.example')]);
    await c.ping('a.example');
    expect(server.requests).toHaveLength(1);
    expect(results[0]).toBe(results[1]);
    await c.ping('b.example');
    expect(server.requests).toHaveLength(2);
  });

  it('parses the challenges of a 401', async () => {
    server.use(
      http.get(`${server.origin}/v2/`, () =>
        new HttpResponse(null, { status: 401, headers: { 'www-authenticate': `Bearer realm="${server.origin}/token",service="svc"` } }),
      ),
    );
    const result = await client({ endpoint: () => server.origin }).ping('r.example');
    expect(result.challenges).toEqual([{ scheme: 'bearer', params: { realm: `${server.origin}/token`, service: 'svc' } }]);
  });

  it('tells a 401 without a challenge from an open registry by its status', async () => {
    server.use(http.get(`${server.origin}/v2/`, () => HttpResponse.json({ errors: [{ code: 'UNAUTHORIZED' }] }, { status: 401 })));
    const result = await client({ endpoint: () => server.origin }).ping('r.example');
    expect(result).toMatchObject({ status: 401, challenges: [] });
  });

  it('does not fall back to plain HTTP for a registry that must use HTTPS', async () => {
    const lines: string[] = [];
    const err = await client({ log: (l) => lines.push(l), retry: { attempts: 1 } })
      .ping('registry.invalid')
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ code: 'NETWORK' });
    expect(lines.some((l) => l.includes('http://registry.invalid'))).toBe(false);
  });

  it('forgets a failed probe so a later call probes again', async () => {
    let calls = 0;
    server.use(
      http.get(`${server.origin}/v2/`, () => {
        calls++;
        return calls === 1 ? new HttpResponse('teapot', { status: 418 }) : HttpResponse.json({});
      }),
    );
    const c = client({ endpoint: () => server.origin });
    await expect(c.ping('r.example')).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
    expect((await c.ping('r.example')).challenges).toEqual([]);
  });

  it('uses the endpoint override with its path prefix, for mirrors', async () => {
    server.use(http.get(`${server.origin}/mirror/v2/`, () => HttpResponse.json({})));
    const result = await client({ endpoint: (r) => (r === 'docker.io' ? `${server.origin}/mirror/` : undefined) }).ping('docker.io');
    expect(result.baseUrl).toBe(`${server.origin}/mirror`);
  });

  it('lets a caller abort its wait without cancelling the probe for others', async () => {
    server.use(
      http.get(`${server.origin}/v2/`, async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return HttpResponse.json({});
      }),
    );
    const c = client({ endpoint: () => server.origin });
    const controller = new AbortController();
    const impatient = c.ping('r.example', { signal: controller.signal });
    const patient = c.ping('r.example');
    controller.abort();
    await expect(impatient).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect((await patient).baseUrl).toBe(server.origin);
    expect(server.requests).toHaveLength(1);
  });
});
