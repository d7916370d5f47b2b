import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_ACCEPT } from '../../../src/media/index.js';
import type { Reference } from '../../../src/reference/types.js';
import { createRegistryClient } from '../../../src/registry/index.js';
import { startMswServer, type MswServer } from '../../helpers/msw-server.js';
import { imageFixture, registryHandlers, repositoryWith, sha256, type FakeRegistryConfig } from '../../providers/fake-registry.js';
import { rejection } from '../../helpers/rejection.js';

let server: MswServer;
const image = imageFixture();
const clients: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  server = await startMswServer();
});
afterEach(async () => {
  server.reset();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => server.close());

const REGISTRY = 'registry.test';

function setup(config: Partial<FakeRegistryConfig> = {}) {
  server.use(...registryHandlers({ origin: server.origin, auth: { scheme: 'none' }, repositories: { 'org/app': repositoryWith(image) }, ...config }));
  const lines: string[] = [];
  const client = createRegistryClient({
    version: 'test',
    env: {},
    endpoint: () => server.origin,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    log: (l) => lines.push(l),
  });
  clients.push(client);
  return { client, lines };
}

const ref = (over: Partial<Reference> = {}): Reference => ({ registry: REGISTRY, repository: 'org/app', tag: 'latest', ...over });

describe('getManifest', () => {
  it('fetches by tag with the Accept list and checks Docker-Content-Digest', async () => {
    const { client } = setup();
    const manifest = await client.getManifest(ref());
    expect(manifest).toMatchObject({ kind: 'image', mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: image.manifestDigest });
    expect(Buffer.from(manifest.bytes).equals(image.manifest)).toBe(true);
    const manifestRequest = server.requests.find((r) => r.url.includes('/manifests/'));
    expect(manifestRequest?.headers.accept).toBe(MANIFEST_ACCEPT.join(', '));
  });

  it('fetches an index by digest', async () => {
    const { client } = setup();
    const manifest = await client.getManifest(ref({ tag: undefined, digest: image.indexDigest }));
    expect(manifest.kind).toBe('index');
    expect(manifest.digest).toBe(image.indexDigest);
    expect(server.requests.at(-1)?.url).toContain(`/manifests/${image.indexDigest}`);
  });

  it('asks for `latest` when the reference has neither tag nor digest', async () => {
    const { client } = setup();
    await client.getManifest(ref({ tag: undefined }));
    expect(server.requests.at(-1)?.url).toContain('/manifests/latest');
  });

  it('rejects bytes that do not match the reference digest', async () => {
    const { client } = setup();
    const wrong = sha256('something else');
    server.use(
      http.get(`${server.origin}/v2/org/app/manifests/${wrong}`, () =>
        new HttpResponse(image.manifest, { headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } }),
      ),
    );
    const err = await rejection(client.getManifest(ref({ digest: wrong })));
    expect(err.code).toBe('DIGEST_MISMATCH');
  });

  it('rejects bytes that do not match Docker-Content-Digest', async () => {
    const { client } = setup();
    server.use(
      http.get(`${server.origin}/v2/org/app/manifests/tampered`, () =>
        new HttpResponse(image.manifest, {
          headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': image.indexDigest },
        }),
      ),
    );
    const err = await rejection(client.getManifest(ref({ tag: 'tampered' })));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.details).toMatchObject({ from: 'Docker-Content-Digest' });
  });

  it('computes the sha256 when the registry sends no digest', async () => {
    const { client } = setup();
    server.use(
      http.get(`${server.origin}/v2/org/app/manifests/nodigest`, () =>
        new HttpResponse(image.manifest, { headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } }),
      ),
    );
    expect((await client.getManifest(ref({ tag: 'nodigest' }))).digest).toBe(image.manifestDigest);
  });

  it('reports a schema 1 manifest clearly as unsupported, signed or not', async () => {
    const { client } = setup();
    const schema1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'org/app', tag: 'old', fsLayers: [], history: [], signatures: [] }));
    server.use(
      http.get(`${server.origin}/v2/org/app/manifests/old`, () =>
        new HttpResponse(schema1, {
          headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'docker-content-digest': sha256('payload only') },
        }),
      ),
      http.get(`${server.origin}/v2/org/app/manifests/old-json`, () =>
        new HttpResponse(schema1, { headers: { 'content-type': 'application/json' } }),
      ),
    );
    for (const tag of ['old', 'old-json']) {
      const err = await rejection(client.getManifest(ref({ tag })));
      expect(err.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(err.message).toContain('schema 1');
      expect(err.hint).toContain('re-push');
    }
  });

  it('decodes a 404 into MANIFEST_UNKNOWN or NAME_UNKNOWN', async () => {
    const { client } = setup();
    expect((await rejection(client.getManifest(ref({ tag: 'nope' })))).code).toBe('MANIFEST_UNKNOWN');
    expect((await rejection(client.getManifest(ref({ repository: 'org/missing' })))).code).toBe('NAME_UNKNOWN');
  });

  it('refuses a manifest larger than the limit before reading it', async () => {
    const { client } = setup();
    server.use(
      http.get(`${server.origin}/v2/org/app/manifests/huge`, () =>
        new HttpResponse(Buffer.alloc(5 * 1024 * 1024, 32), { headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } }),
      ),
    );
    const err = await rejection(client.getManifest(ref({ tag: 'huge' })));
    expect(err.code).toBe('MANIFEST_INVALID');
  });
});

describe('headManifest', () => {
  it('answers from a HEAD with Docker-Content-Digest', async () => {
    const { client } = setup({ manifestHeaders: { 'ratelimit-remaining': '76;w=21600' } });
    const head = await client.headManifest(ref());
    expect(head).toMatchObject({ digest: image.manifestDigest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: image.manifest.length });
    expect(head.headers['ratelimit-remaining']).toBe('76;w=21600');
    expect(server.requests.filter((r) => r.url.includes('/manifests/')).map((r) => r.method)).toEqual(['HEAD']);
  });

  it('falls back to a digest-checked GET when HEAD gives no digest', async () => {
    const { client, lines } = setup({ headDigest: false });
    const head = await client.headManifest(ref());
    expect(head).toMatchObject({ digest: image.manifestDigest, size: image.manifest.length });
    expect(server.requests.filter((r) => r.url.includes('/manifests/')).map((r) => r.method)).toEqual(['HEAD', 'GET']);
    expect(lines.some((l) => l.includes('gave no digest'))).toBe(true);
  });

  it('reports a missing manifest on HEAD as MANIFEST_UNKNOWN although HEAD has no body', async () => {
    const { client } = setup();
    const err = await rejection(client.headManifest(ref({ tag: 'nope' })));
    expect(err.code).toBe('MANIFEST_UNKNOWN');
  });

  it('rejects a HEAD by digest answered with another digest', async () => {
    const { client } = setup();
    server.use(
      http.head(`${server.origin}/v2/org/app/manifests/${image.indexDigest}`, () =>
        new HttpResponse(null, { headers: { 'docker-content-digest': image.manifestDigest, 'content-length': '10', 'content-type': 'x/y' } }),
      ),
    );
    expect((await rejection(client.headManifest(ref({ digest: image.indexDigest })))).code).toBe('DIGEST_MISMATCH');
  });
});
