import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../../src/http/index.js';
import { startMswServer, type MswServer } from '../../helpers/msw-server.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { createTestCA, issueServerCert, type TestCA } from '../../helpers/tls.js';

let target: MswServer;
let dir: string;
let ca: TestCA;
let secure: HttpsServer;
let proxy: Server;
let proxyUrl: string;
/**
 * A name that is not loopback, which the test proxy alone resolves (to
 * 127.0.0.1): loopback itself never goes through a proxy, as in Go.
 */
const FAR = 'registry.test';
let farOrigin: string;
let farSecureHost: string;
const tunnels: string[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  target = await startMswServer();
  dir = await makeTempDir('http-proxy');
  ca = await createTestCA(join(dir, 'ca'));
  const leaf = await issueServerCert(ca, { ip: ['127.0.0.1'], dns: [FAR] });
  secure = createHttpsServer({ cert: await readFile(leaf.certFile), key: await readFile(leaf.keyFile) }, (_req, res) => {
    res.writeHead(200);
    res.end('{}');
  });
  await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
  farSecureHost = `${FAR}:${(secure.address() as AddressInfo).port}`;
  farOrigin = `http://${FAR}:${new URL(target.origin).port}`;
  // A CONNECT proxy limited to loopback targets: what HTTPS_PROXY/HTTP_PROXY point at.
  proxy = createServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  proxy.on('connect', (req, client: Socket) => {
    tunnels.push(req.url ?? '');
    const [hostname, port] = (req.url ?? '').split(':');
    if (hostname !== FAR) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = connect(Number(port), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    sockets.add(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterEach(() => {
  tunnels.length = 0;
  target.reset();
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  await target.close();
  secure.closeAllConnections();
  await new Promise<void>((resolve) => secure.close(() => resolve()));
  await removeTempDir(dir);
});

async function get(env: NodeJS.ProcessEnv, origin = farOrigin): Promise<number> {
  target.use(http.get('*/v2/', () => HttpResponse.json({})));
  const client = createHttpClient({ userAgent: 'gantry/test', env, retry: { attempts: 1 } });
  try {
    const res = await client.request({ method: 'GET', url: `${origin}/v2/` });
    await res.discard();
    return res.status;
  } finally {
    await client.close();
  }
}

describe('proxies from the environment', () => {
  it('tunnels through HTTP_PROXY', async () => {
    expect(await get({ HTTP_PROXY: proxyUrl })).toBe(200);
    expect(tunnels).toEqual([new URL(farOrigin).host]);
  });

  it('goes direct to loopback whatever the proxy variables say, as Go (docker, skopeo) does', async () => {
    expect(await get({ HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl }, target.origin)).toBe(200);
    expect(await get({ HTTP_PROXY: proxyUrl }, `http://localhost:${new URL(target.origin).port}`)).toBe(200);
    expect(tunnels).toEqual([]);
  });

  it('tunnels HTTPS through HTTPS_PROXY and verifies the target with the configured CA', async () => {
    const client = createHttpClient({ userAgent: 'gantry/test', env: { HTTPS_PROXY: proxyUrl }, caFile: ca.certFile, retry: { attempts: 1 } });
    try {
      const res = await client.request({ method: 'GET', url: `https://${farSecureHost}/v2/` });
      await res.discard();
      expect(res.status).toBe(200);
    } finally {
      await client.close();
    }
    expect(tunnels).toEqual([farSecureHost]);
    const untrusting = createHttpClient({ userAgent: 'gantry/test', env: { HTTPS_PROXY: proxyUrl }, retry: { attempts: 1 } });
    try {
      await expect(untrusting.request({ method: 'GET', url: `https://${farSecureHost}/v2/` })).rejects.toMatchObject({ code: 'TLS' });
    } finally {
      await untrusting.close();
    }
  });

  it('prefers the lowercase variable, as curl does', async () => {
    expect(await get({ http_proxy: proxyUrl, HTTP_PROXY: 'http://127.0.0.1:1' })).toBe(200);
    expect(tunnels).toEqual([new URL(farOrigin).host]);
  });

  it('goes direct for hosts in NO_PROXY', async () => {
    // Nothing resolves the far name but the proxy: a direct attempt fails, as NO_PROXY asks.
    const err = await get({ HTTP_PROXY: proxyUrl, NO_PROXY: FAR }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'NETWORK' });
    expect(tunnels).toEqual([]);
  });

  it('goes direct without proxy variables, whatever process.env holds', async () => {
    expect(await get({}, target.origin)).toBe(200);
    expect(tunnels).toEqual([]);
  });

  it('reports a dead proxy as a network error', async () => {
    const err = await get({ HTTP_PROXY: 'http://127.0.0.1:1' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'NETWORK' });
  });
});
