import { text } from 'node:stream/consumers';
import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Reference } from '../../../src/reference/types.js';
import { createRegistryClient } from '../../../src/registry/index.js';
import { startMswServer, type MswServer } from '../../helpers/msw-server.js';
import { imageFixture, registryHandlers, repositoryWith, sha256, storageHandlers, type FakeRegistryConfig } from '../../providers/fake-registry.js';

let server: MswServer;
let storage: MswServer;
const image = imageFixture();
const clients: Array<{ close(): Promise<void> }> = [];
const ref: Reference = { registry: 'registry.test', repository: 'org/app', tag: 'latest' };

beforeAll(async () => {
  server = await startMswServer();
  storage = await startMswServer();
});
afterEach(async () => {
  server.reset();
  storage.reset();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await server.close();
  await storage.close();
});

function setup(config: Partial<FakeRegistryConfig> = {}) {
  server.use(...registryHandlers({ origin: server.origin, auth: { scheme: 'none' }, repositories: { 'org/app': repositoryWith(image) }, ...config }));
  const client = createRegistryClient({ version: 'test', env: {}, endpoint: () => server.origin, retry: { baseDelayMs: 1, maxDelayMs: 2 } });
  clients.push(client);
  return client;
}

describe('getBlobBytes', () => {
  it('reads a blob and checks its digest', async () => {
    const bytes = await setup().getBlobBytes(ref, image.configDigest);
    expect(Buffer.from(bytes).equals(image.config)).toBe(true);
  });

  it('follows a redirect to storage on another origin', async () => {
    const client = setup({ blobRedirect: storage.origin });
    storage.use(...storageHandlers(storage.origin, { [image.configDigest]: image.config }));
    const bytes = await client.getBlobBytes(ref, image.configDigest);
    expect(Buffer.from(bytes).equals(image.config)).toBe(true);
    expect(storage.requests).toHaveLength(1);
  });

  it('rejects content that does not match the digest', async () => {
    const client = setup();
    const digest = sha256('the real content');
    server.use(http.get(`${server.origin}/v2/org/app/blobs/${digest}`, () => HttpResponse.text('corrupted')));
    await expect(client.getBlobBytes(ref, digest)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('refuses a blob larger than the cap', async () => {
    const client = setup();
    await expect(client.getBlobBytes(ref, image.configDigest, { maxBytes: 10 })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('reports a missing blob as BLOB_UNKNOWN', async () => {
    await expect(setup().getBlobBytes(ref, sha256('absent'))).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
  });

  it('rejects a malformed digest before sending anything', async () => {
    const client = setup();
    await expect(client.getBlobBytes(ref, 'sha256:../../etc')).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
    expect(server.requests.filter((r) => r.url.includes('/blobs/'))).toHaveLength(0);
  });
});

describe('openBlob', () => {
  it('streams a whole blob', async () => {
    const opened = await setup().openBlob(ref, { digest: image.layerDigest, size: image.layer.length });
    expect(opened.offset).toBe(0);
    expect(await text(opened.body)).toBe(image.layer.toString());
  });

  it('resumes from an offset with a Range request', async () => {
    const opened = await setup().openBlob(ref, { digest: image.layerDigest, size: image.layer.length }, { from: 6 });
    expect(opened.offset).toBe(6);
    expect(await text(opened.body)).toBe(image.layer.subarray(6).toString());
    expect(server.requests.at(-1)?.headers.range).toBe('bytes=6-');
  });

  it('reports offset 0 when the server ignores the Range', async () => {
    const client = setup();
    server.use(http.get(`${server.origin}/v2/org/app/blobs/${image.layerDigest}`, () => new HttpResponse(image.layer)));
    const opened = await client.openBlob(ref, { digest: image.layerDigest, size: image.layer.length }, { from: 6 });
    expect(opened.offset).toBe(0);
    expect(await text(opened.body)).toBe(image.layer.toString());
  });

  it('refuses a Content-Range that starts elsewhere', async () => {
    const client = setup();
    server.use(
      http.get(`${server.origin}/v2/org/app/blobs/${image.layerDigest}`, () =>
        new HttpResponse(image.layer.subarray(2), { status: 206, headers: { 'content-range': `bytes 2-${image.layer.length - 1}/${image.layer.length}` } }),
      ),
    );
    await expect(client.openBlob(ref, { digest: image.layerDigest, size: image.layer.length }, { from: 6 })).rejects.toMatchObject({
      code: 'REGISTRY_ERROR',
    });
  });

  it('resumes through a storage redirect without leaking the token', async () => {
    const client = setup({ blobRedirect: storage.origin });
    storage.use(...storageHandlers(storage.origin, { [image.layerDigest]: image.layer }));
    const opened = await client.openBlob(ref, { digest: image.layerDigest, size: image.layer.length }, { from: 3 });
    expect(opened.offset).toBe(3);
    expect(await text(opened.body)).toBe(image.layer.subarray(3).toString());
    expect(storage.requests[0]?.headers.range).toBe('bytes=3-');
  });
});
