import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryClient } from '../../../src/registry/index.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { createTestCA, issueServerCert, type TestCA } from '../../helpers/tls.js';

let dir: string;
let ca: TestCA;
let server: Server;
let host: string;
let plainRequests = 0;

beforeAll(async () => {
  dir = await makeTempDir('gantry-ping-tls-');
  ca = await createTestCA(join(dir, 'ca'));
  const leaf = await issueServerCert(ca, { ip: ['127.0.0.1'], dir: join(dir, 'server') });
  server = createServer({ cert: await readFile(leaf.certFile), key: await readFile(leaf.keyFile) }, (_req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' });
    res.end('{}');
  });
  // What reaches a TLS port as plain HTTP fails its handshake.
  server.on('tlsClientError', () => plainRequests++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await removeTempDir(dir);
});

describe('ping of a loopback registry that speaks TLS', () => {
  it('finds no registry over plain HTTP, then verifies HTTPS as usual', async () => {
    const client = createRegistryClient({ version: 'test', env: {}, certsDirs: [], caFile: ca.certFile });
    try {
      const result = await client.ping(host);
      expect(result).toMatchObject({ baseUrl: `https://${host}`, status: 401, challenges: [{ scheme: 'basic' }] });
      expect(plainRequests).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('still refuses a certificate it cannot verify', async () => {
    const client = createRegistryClient({ version: 'test', env: {}, certsDirs: [], retry: { attempts: 1 } });
    try {
      const err = await client.ping(host).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'TLS', message: expect.stringContaining('plain HTTP failed too') });
    } finally {
      await client.close();
    }
  });
});
