import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Reference } from '../../src/reference/types.js';
import { startMswServer, type MswServer } from '../helpers/msw-server.js';
import { imageFixture, registryHandlers, repositoryWith, sha256, storageHandlers, tokenHandlers } from './fake-registry.js';
import { collect, providerClient } from './provider-client.js';

// Behaviours seen across registries: rate limiting with Retry-After, bursts
// of 5xx from overloaded front ends, paginated tag lists, CDN redirects for
// blobs, and old schema 1 images.
const HOST = 'registry.example.com';
let registry: MswServer;
let cdn: MswServer;
const image = imageFixture('quirks');
const ref: Reference = { registry: HOST, repository: 'org/app', tag: 'latest' };

beforeAll(async () => {
  registry = await startMswServer();
  cdn = await startMswServer();
});
afterEach(() => {
  registry.reset();
  cdn.reset();
});
afterAll(async () => {
  await registry.close();
  await cdn.close();
});

function serve(options: { blobRedirect?: boolean; maxPageSize?: number } = {}) {
  registry.use(
    ...registryHandlers({
      origin: registry.origin,
      auth: { scheme: 'bearer', realm: `${registry.origin}/token`, service: HOST },
      repositories: { 'org/app': repositoryWith(image, { tags: Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`) }) },
      ...(options.blobRedirect ? { blobRedirect: cdn.origin } : {}),
      ...(options.maxPageSize ? { maxPageSize: options.maxPageSize } : {}),
    }),
    ...tokenHandlers({ realm: `${registry.origin}/token`, service: HOST, users: { u: 'p' } }),
  );
  cdn.use(...storageHandlers(cdn.origin, { [image.configDigest]: image.config }));
  return providerClient({ map: { [`https://${HOST}`]: registry.origin }, credentials: { [HOST]: { username: 'u', password: 'p' } } });
}

const manifestGets = () => registry.requests.filter((r) => r.method === 'GET' && r.url.includes('/manifests/'));

describe('registry quirks', () => {
  it('retries a 429 after its Retry-After', async () => {
    const { client } = serve();
    let calls = 0;
    registry.use(
      http.get(`${registry.origin}/v2/org/app/manifests/latest`, () => {
        calls++;
        if (calls === 1) {
          return HttpResponse.json({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }, { status: 429, headers: { 'retry-after': '1' } });
        }
        return undefined;
      }),
    );
    const started = Date.now();
    expect((await client.getManifest(ref)).digest).toBe(image.manifestDigest);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(manifestGets()).toHaveLength(2);
    await client.close();
  });

  it('rides out a short burst of 5xx', async () => {
    const { client } = serve();
    let calls = 0;
    registry.use(
      http.get(`${registry.origin}/v2/org/app/manifests/latest`, () => {
        calls++;
        return calls <= 3 ? new HttpResponse('<html>502 Bad Gateway</html>', { status: calls === 2 ? 503 : 502 }) : undefined;
      }),
    );
    expect((await client.getManifest(ref)).digest).toBe(image.manifestDigest);
    expect(manifestGets()).toHaveLength(4);
    await client.close();
  });

  it('gives up on a lasting outage after the bounded attempts', async () => {
    const { client } = serve();
    registry.use(http.get(`${registry.origin}/v2/org/app/manifests/latest`, () => new HttpResponse(null, { status: 500 })));
    await expect(client.getManifest(ref)).rejects.toMatchObject({ code: 'REGISTRY_ERROR', status: 500 });
    expect(manifestGets()).toHaveLength(4);
    await client.close();
  });

  it('walks a tag list of several pages', async () => {
    const { client } = serve({ maxPageSize: 5 });
    const pages = await collect(client.listTags(ref));
    expect(pages.map((p) => p.length)).toEqual([5, 5, 4]);
    expect(new Set(pages.flat()).size).toBe(14);
    await client.close();
  });

  it('follows a blob redirect to a CDN on another host without Authorization', async () => {
    const { client } = serve({ blobRedirect: true });
    const bytes = await client.getBlobBytes(ref, image.configDigest);
    expect(Buffer.from(bytes).equals(image.config)).toBe(true);
    const blobRequest = registry.requests.find((r) => r.url.includes('/blobs/'));
    expect(blobRequest?.headers.authorization).toMatch(/^Bearer /);
    expect(cdn.requests).toHaveLength(1);
    expect(cdn.requests[0]?.headers.authorization).toBeUndefined();
    await client.close();
  });

  it('rejects a schema 1 manifest with a clear message', async () => {
    const { client } = serve();
    const schema1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'org/app', tag: 'ancient', architecture: 'amd64', fsLayers: [], history: [], signatures: [{}] }));
    registry.use(
      http.get(`${registry.origin}/v2/org/app/manifests/ancient`, () =>
        new HttpResponse(schema1, {
          headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'docker-content-digest': sha256('unsigned payload') },
        }),
      ),
    );
    const err = await client.getManifest({ ...ref, tag: 'ancient' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect((err as Error).message).toContain('schema 1');
    await client.close();
  });
});
