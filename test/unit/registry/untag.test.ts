import { createHash } from 'node:crypto';
import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import type { Reference } from '../../../src/reference/types.js';
import { createRegistryClient } from '../../../src/registry/index.js';
import { UNTAG_ARTIFACT_TYPE, UNTAG_PLACEHOLDER_ANNOTATION, untagManifest } from '../../../src/registry/untag.js';
import { startMswServer, type MswServer } from '../../helpers/msw-server.js';

// untag's choice between the registry's tag delete and the placeholder
// route, against registries that behave as the spec allows: OCI 1.1 tag
// deletes, 405 without them, deletes disabled, and one whose tag delete
// takes the manifest along. Distribution 2.8 itself is in
// test/integration/cli-tag-delete.test.ts.

const REGISTRY = 'registry.test';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const EMPTY = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
const sha256 = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

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

interface Behaviour {
  /** How DELETE /manifests/<tag> answers. */
  tagDelete: 'untag' | 'delete-manifest' | 'method-not-allowed';
  /** DELETE by digest works (else 405 UNSUPPORTED, as deletes disabled). */
  digestDeletes: boolean;
  /** DELETE by digest of anything but the probe is denied (403). */
  denyDigestDeletes?: boolean;
  /** The empty config blob is already there. */
  hasEmptyBlob?: boolean;
}

/** One repository, `org/app`, of a registry with the given behaviour; its state is returned for assertions. */
function fakeRegistry(behaviour: Behaviour) {
  const manifests = new Map<string, { bytes: Buffer; mediaType: string }>();
  const tags = new Map<string, string>();
  const blobs = new Set<string>(behaviour.hasEmptyBlob ? [EMPTY] : []);
  const base = `${server.origin}/v2/org/app`;
  const put = (tag: string | undefined, bytes: Buffer, mediaType: string): string => {
    const digest = sha256(bytes);
    manifests.set(digest, { bytes, mediaType });
    if (tag) tags.set(tag, digest);
    return digest;
  };
  const resolve = (reference: string): string | undefined => (reference.startsWith('sha256:') ? reference : tags.get(reference));
  const unknown = () => HttpResponse.json({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }, { status: 404 });
  const unsupported = () => HttpResponse.json({ errors: [{ code: 'UNSUPPORTED', message: 'The operation is unsupported.' }] }, { status: 405 });
  const manifestResponse = (reference: string, withBody: boolean) => {
    const digest = resolve(reference);
    const found = digest === undefined ? undefined : manifests.get(digest);
    if (digest === undefined || found === undefined) return unknown();
    const headers = { 'content-type': found.mediaType, 'docker-content-digest': digest, 'content-length': String(found.bytes.length) };
    return new HttpResponse(withBody ? found.bytes : null, { status: 200, headers });
  };
  const removeManifest = (digest: string) => {
    manifests.delete(digest);
    for (const [tag, d] of tags) if (d === digest) tags.delete(tag);
  };
  server.use(
    http.get(`${server.origin}/v2/`, () => HttpResponse.json({})),
    http.head(`${base}/manifests/:reference`, ({ params }) => manifestResponse(String(params.reference), false)),
    http.get(`${base}/manifests/:reference`, ({ params }) => manifestResponse(String(params.reference), true)),
    http.put(`${base}/manifests/:reference`, async ({ params, request }) => {
      const reference = String(params.reference);
      const digest = put(reference.startsWith('sha256:') ? undefined : reference, Buffer.from(await request.arrayBuffer()), request.headers.get('content-type') ?? '');
      return new HttpResponse(null, { status: 201, headers: { 'docker-content-digest': digest } });
    }),
    http.delete(`${base}/manifests/:reference`, ({ params }) => {
      const reference = String(params.reference);
      if (!reference.startsWith('sha256:')) {
        if (behaviour.tagDelete === 'method-not-allowed') return unsupported();
        const digest = tags.get(reference);
        if (digest === undefined) return unknown();
        if (behaviour.tagDelete === 'untag') tags.delete(reference);
        else removeManifest(digest);
        return new HttpResponse(null, { status: 202 });
      }
      if (!behaviour.digestDeletes) return unsupported();
      if (!manifests.has(reference)) return unknown();
      if (behaviour.denyDigestDeletes) return HttpResponse.json({ errors: [{ code: 'DENIED', message: 'no' }] }, { status: 403 });
      removeManifest(reference);
      return new HttpResponse(null, { status: 202 });
    }),
    http.head(`${base}/blobs/:digest`, ({ params }) =>
      blobs.has(String(params.digest)) ? new HttpResponse(null, { status: 200, headers: { 'content-length': '2' } }) : new HttpResponse(null, { status: 404 }),
    ),
    http.post(`${base}/blobs/uploads/`, () => new HttpResponse(null, { status: 202, headers: { location: `${base}/blobs/uploads/u1`, range: '0-0' } })),
    http.patch(`${base}/blobs/uploads/u1`, async ({ request }) => {
      const size = (await request.arrayBuffer()).byteLength;
      return new HttpResponse(null, { status: 202, headers: { location: `${base}/blobs/uploads/u1`, range: `0-${size - 1}` } });
    }),
    http.put(`${base}/blobs/uploads/u1`, ({ request }) => {
      const digest = new URL(request.url).searchParams.get('digest') ?? '';
      blobs.add(digest);
      return new HttpResponse(null, { status: 201, headers: { 'docker-content-digest': digest } });
    }),
  );
  const image = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: EMPTY, size: 2 }, layers: [] }));
  const digest = put('v1', image, OCI_MANIFEST);
  tags.set('v2', digest);
  const client = createRegistryClient({ version: 'test', env: {}, endpoint: () => server.origin, insecure: [REGISTRY], retry: { attempts: 1 } });
  clients.push(client);
  return { client, digest, manifests, tags, blobs };
}

const v1: Reference = { registry: REGISTRY, repository: 'org/app', tag: 'v1' };
const requests = (method: string) => server.requests.filter((r) => r.method === method).map((r) => new URL(r.url).pathname);

describe('untagManifest', () => {
  it("uses the registry's tag delete where it has one (OCI 1.1), and moves nothing", async () => {
    const { client, digest, tags } = fakeRegistry({ tagDelete: 'untag', digestDeletes: true });
    const result = await untagManifest(client, v1);
    expect(result).toEqual({ reference: 'registry.test/org/app:v1', tag: 'v1', digest, method: 'tag-delete' });
    expect([...tags]).toEqual([['v2', digest]]);
    expect(requests('PUT')).toEqual([]);
    expect(requests('DELETE')).toEqual(['/v2/org/app/manifests/v1']);
  });

  it('on a 405 for tags, checks that digest deletes work, then moves the tag to a placeholder and deletes that', async () => {
    const { client, digest, tags, manifests, blobs } = fakeRegistry({ tagDelete: 'method-not-allowed', digestDeletes: true });
    const result = await untagManifest(client, v1);
    expect(result.method).toBe('placeholder');
    expect(result.digest).toBe(digest);
    expect([...tags]).toEqual([['v2', digest]]);
    expect([...manifests.keys()]).toEqual([digest]);
    expect(blobs.has(EMPTY)).toBe(true);
    const deletes = requests('DELETE');
    expect(deletes).toHaveLength(3);
    expect(deletes[0]).toBe('/v2/org/app/manifests/v1');
    // The probe: a digest nobody has.
    expect(deletes[1]).toMatch(/^\/v2\/org\/app\/manifests\/sha256:[0-9a-f]{64}$/);
    expect(deletes[1]).not.toContain(digest);
    expect(deletes[2]).toBe(`/v2/org/app/manifests/${result.placeholder}`);
  });

  it('writes a placeholder that is an OCI manifest with the empty config, no layers, and gantry annotations', async () => {
    const { client } = fakeRegistry({ tagDelete: 'method-not-allowed', digestDeletes: true, hasEmptyBlob: true });
    await untagManifest(client, v1);
    const put = server.requests.find((r) => r.method === 'PUT' && r.url.endsWith('/manifests/v1'));
    expect(put?.headers['content-type']).toBe(OCI_MANIFEST);
    const placeholder = JSON.parse(put?.body ?? '{}');
    expect(placeholder).toMatchObject({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: UNTAG_ARTIFACT_TYPE,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY, size: 2 },
      layers: [],
      annotations: { [UNTAG_PLACEHOLDER_ANNOTATION]: 'v1' },
    });
    // The blob was there: no upload.
    expect(requests('POST')).toEqual([]);
  });

  it('gives each untag its own placeholder, so one never takes another tag along', async () => {
    const first = fakeRegistry({ tagDelete: 'method-not-allowed', digestDeletes: true, hasEmptyBlob: true });
    const a = await untagManifest(first.client, v1);
    const b = await untagManifest(first.client, { ...v1, tag: 'v2' });
    expect(a.placeholder).not.toBe(b.placeholder);
  });

  it('changes nothing when deletes are disabled altogether, and says so', async () => {
    const { client, digest, tags } = fakeRegistry({ tagDelete: 'method-not-allowed', digestDeletes: false });
    const err = await untagManifest(client, v1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GantryError);
    expect((err as GantryError).code).toBe('UNSUPPORTED');
    expect((err as GantryError).message).toContain('deletes are disabled');
    expect(tags.get('v1')).toBe(digest);
    expect(requests('PUT')).toEqual([]);
    expect(requests('POST')).toEqual([]);
  });

  it('reports a registry whose tag delete removed the manifest too', async () => {
    const { client } = fakeRegistry({ tagDelete: 'delete-manifest', digestDeletes: true });
    await expect(untagManifest(client, v1)).rejects.toMatchObject({ code: 'REGISTRY_ERROR', message: expect.stringContaining('not only the tag') });
  });

  it('when the placeholder cannot be deleted, says the tag names it and that running again finishes', async () => {
    const { client, digest, tags } = fakeRegistry({ tagDelete: 'method-not-allowed', digestDeletes: true, denyDigestDeletes: true, hasEmptyBlob: true });
    const err = (await untagManifest(client, v1).then(
      () => undefined,
      (e: unknown) => e,
    )) as GantryError;
    expect(err.code).toBe('AUTH_DENIED');
    expect(err.message).toContain('now names a placeholder manifest');
    expect(err.hint).toContain('Run the same untag again');
    // v2 still names the image; v1 names the placeholder, which the rerun recognizes.
    expect(tags.get('v2')).toBe(digest);
    expect(tags.get('v1')).not.toBe(digest);
  });

  it('refuses a reference without a tag, before any request', async () => {
    const { client, digest } = fakeRegistry({ tagDelete: 'untag', digestDeletes: true });
    await expect(untagManifest(client, { registry: REGISTRY, repository: 'org/app', digest })).rejects.toMatchObject({ code: 'USAGE' });
    expect(server.requests).toEqual([]);
  });
});
