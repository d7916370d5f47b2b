import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer as createPlainServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { rootCertificates, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import { createHttpClient, createInsecurePolicy, type HttpClientOptions } from '../../../src/http/index.js';
import { createTlsOptionsResolver } from '../../../src/http/tls-options.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { createTestCA, issueServerCert, type TestCA } from '../../helpers/tls.js';

let dir: string;
let ca: TestCA;
let otherCa: TestCA;
let server: Server;
let origin: string;
let host: string;
const peers: Array<string | undefined> = [];

beforeAll(async () => {
  dir = await makeTempDir('http-tls');
  ca = await createTestCA(join(dir, 'ca'));
  otherCa = await createTestCA(join(dir, 'other-ca'), { commonName: 'unrelated CA' });
  const leaf = await issueServerCert(ca, { ip: ['127.0.0.1'], dir: join(dir, 'server') });
  server = createServer(
    { cert: await readFile(leaf.certFile), key: await readFile(leaf.keyFile), requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      const cn = peer && 'subject' in peer && peer.subject ? peer.subject.CN : undefined;
      peers.push(Array.isArray(cn) ? cn.join(',') : cn);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  origin = `https://${host}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await removeTempDir(dir);
});

async function get(options: Partial<HttpClientOptions>, registry = host): Promise<number> {
  const client = createHttpClient({ userAgent: 'gantry/test', env: {}, certsDirs: [], retry: { attempts: 1 }, ...options });
  try {
    const res = await client.request({ method: 'GET', url: `${origin}/v2/`, registry });
    await res.discard();
    return res.status;
  } finally {
    await client.close();
  }
}

async function failure(options: Partial<HttpClientOptions>): Promise<GantryError> {
  const err = await get(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GantryError);
  return err as GantryError;
}

describe('TLS', () => {
  it('verifies certificates by default and explains a failure with TLS and a hint', async () => {
    const err = await failure({});
    expect(err.code).toBe('TLS');
    expect(err.message).toContain(origin);
    expect(err.hint).toContain('--ca-file');
    expect(err.hint).toContain('certs.d');
    expect(err.hint).toContain('--insecure');
  });

  it('trusts the CA of --ca-file', async () => {
    expect(await get({ caFile: ca.certFile })).toBe(200);
  });

  it('trusts a CA from certs.d/<host:port>/*.crt', async () => {
    const certsDir = join(dir, 'certs.d-ca');
    await mkdir(join(certsDir, host), { recursive: true });
    await copyFile(ca.certFile, join(certsDir, host, 'ca.crt'));
    expect(await get({ certsDirs: [join(dir, 'missing'), certsDir] })).toBe(200);
  });

  it('presents the client certificate pair of certs.d (*.cert + *.key)', async () => {
    const certsDir = join(dir, 'certs.d-client');
    const client = await issueServerCert(ca, { name: 'client', commonName: 'gantry-client', dir: join(dir, 'client') });
    await mkdir(join(certsDir, host), { recursive: true });
    await copyFile(ca.certFile, join(certsDir, host, 'ca.crt'));
    await copyFile(client.certFile, join(certsDir, host, 'client.cert'));
    await copyFile(client.keyFile, join(certsDir, host, 'client.key'));
    peers.length = 0;
    expect(await get({ certsDirs: [certsDir] })).toBe(200);
    expect(peers).toEqual(['gantry-client']);
  });

  it('refuses a certs.d client certificate without its key', async () => {
    const certsDir = join(dir, 'certs.d-broken');
    await mkdir(join(certsDir, host), { recursive: true });
    await writeFile(join(certsDir, host, 'client.cert'), 'x');
    const err = await failure({ certsDirs: [certsDir], caFile: ca.certFile });
    expect(err.code).toBe('TLS');
    expect(err.message).toContain('client.key');
  });

  it('skips verification for a registry the user marked insecure', async () => {
    expect(await get({ insecure: [host] })).toBe(200);
    expect(await get({ insecure: true })).toBe(200);
  });

  it('keeps verifying for loopback registries that are only insecure by default', async () => {
    const err = await failure({ insecure: ['other.example'] });
    expect(err.code).toBe('TLS');
  });

  it('adds --ca-file to the NODE_EXTRA_CA_CERTS trust instead of replacing it', async () => {
    // The server's CA comes from NODE_EXTRA_CA_CERTS, --ca-file names an unrelated CA: both must be trusted.
    expect(await get({ caFile: otherCa.certFile, env: { NODE_EXTRA_CA_CERTS: ca.certFile } })).toBe(200);
    const err = await failure({ caFile: otherCa.certFile });
    expect(err.code).toBe('TLS');
  });

  it('names plain HTTP, not a certificate, when HTTPS reaches a plain-HTTP server', async () => {
    const plain = createPlainServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const plainHost = `127.0.0.1:${(plain.address() as AddressInfo).port}`;
    const client = createHttpClient({ userAgent: 'gantry/test', env: {}, certsDirs: [], retry: { attempts: 1 } });
    try {
      const err = await client.request({ method: 'GET', url: `https://${plainHost}/v2/`, registry: plainHost }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'TLS', message: expect.stringContaining('plain HTTP'), hint: expect.stringContaining('--insecure') });
      expect((err as GantryError).hint).not.toMatch(/certificate/);
    } finally {
      await client.close();
      plain.closeAllConnections();
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });

  it('reports an unreadable --ca-file as a usage error', async () => {
    const err = await failure({ caFile: join(dir, 'nope.pem') });
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain('nope.pem');
  });
});

describe('createTlsOptionsResolver', () => {
  it('leaves node its default trust when nothing is added', async () => {
    const resolver = createTlsOptionsResolver({ policy: createInsecurePolicy(undefined), env: {}, certsDirs: [] });
    expect(await resolver.resolve('ghcr.io', 'ghcr.io')).toEqual({ rejectUnauthorized: true });
  });

  it('combines node’s bundled roots with an added CA', async () => {
    const resolver = createTlsOptionsResolver({ policy: createInsecurePolicy(undefined), env: {}, certsDirs: [], caFile: ca.certFile });
    const options = await resolver.resolve('ghcr.io', 'ghcr.io');
    expect(options.ca).toHaveLength(rootCertificates.length + 1);
    expect(options.ca?.[0]).toBe(rootCertificates[0]);
    expect(options.ca?.at(-1)).toBe(await readFile(ca.certFile, 'utf8'));
  });

  it('gives a registry marked insecure no trust anchors, so node never parses its roots for it', async () => {
    const resolver = createTlsOptionsResolver({ policy: createInsecurePolicy(['ghcr.io']), env: { NODE_EXTRA_CA_CERTS: ca.certFile }, certsDirs: [], caFile: ca.certFile });
    expect(await resolver.resolve('ghcr.io', 'ghcr.io')).toEqual({ rejectUnauthorized: false, ca: [] });
    // Only the marked registry: another one keeps the full trust.
    expect((await resolver.resolve('quay.io', 'quay.io')).ca).toHaveLength(rootCertificates.length + 2);
  });

  it('still reports a broken --ca-file for a registry marked insecure', async () => {
    const resolver = createTlsOptionsResolver({ policy: createInsecurePolicy(true), env: {}, certsDirs: [], caFile: join(dir, 'missing.pem') });
    await expect(resolver.resolve('ghcr.io', 'ghcr.io')).rejects.toMatchObject({ code: 'USAGE' });
  });
});
