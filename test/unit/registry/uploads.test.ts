import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import type { Reference } from '../../../src/reference/types.js';
import { createRegistryClient, type RegistryClientOptions } from '../../../src/registry/index.js';
import { startMswServer, type MswServer } from '../../helpers/msw-server.js';

// The upload protocol's details against a scripted registry: which URL each
// request goes to, what it carries, and how answers are read.

let registry: MswServer;
let elsewhere: MswServer;
const clients: Array<{ close(): Promise<void> }> = [];
const REGISTRY = 'registry.test';
const ref: Reference = { registry: REGISTRY, repository: 'org/app' };
const BASIC = `Basic ${Buffer.from('alice:pw').toString('base64')}`;

beforeAll(async () => {
  registry = await startMswServer();
  elsewhere = await startMswServer();
});
afterEach(async () => {
  registry.reset();
  elsewhere.reset();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await registry.close();
  await elsewhere.close();
});

const sha256 = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** `/v2/` answers with a Basic challenge, so requests to the registry carry credentials. */
function client(options: Partial<RegistryClientOptions> = {}) {
  registry.use(
    http.get(`${registry.origin}/v2/`, ({ request }) =>
      request.headers.get('authorization') === BASIC ? HttpResponse.json({}) : new HttpResponse(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="test"' } }),
    ),
  );
  const c = createRegistryClient({
    version: 'test',
    env: {},
    endpoint: () => registry.origin,
    insecure: [REGISTRY],
    credentials: async () => ({ username: 'alice', password: 'pw' }),
    retry: { attempts: 1 },
    ...options,
  });
  clients.push(c);
  return c;
}

const requestsTo = (server: MswServer, method: string) => server.requests.filter((r) => r.method === method);

describe('upload sessions', () => {
  it('always continues at the latest Location, relative or absolute, and sends each chunk as it is', async () => {
    const origin = registry.origin;
    registry.use(
      http.post(`${origin}/v2/org/app/blobs/uploads/`, () => new HttpResponse(null, { status: 202, headers: { location: '/v2/org/app/blobs/uploads/u1?_state=a', range: '0-0' } })),
      http.patch(`${origin}/v2/org/app/blobs/uploads/u1`, ({ request }) => {
        const state = new URL(request.url).searchParams.get('_state');
        if (state === 'a') return new HttpResponse(null, { status: 202, headers: { location: '/v2/org/app/blobs/uploads/u1?_state=b', range: '0-3' } });
        if (state === 'b') return new HttpResponse(null, { status: 202, headers: { location: `${elsewhere.origin}/session/u1?_state=c` } });
        return HttpResponse.json({ errors: [{ code: 'BLOB_UPLOAD_INVALID' }] }, { status: 400 });
      }),
    );
    elsewhere.use(
      http.patch(`${elsewhere.origin}/session/u1`, () => new HttpResponse(null, { status: 202, headers: { location: `${elsewhere.origin}/session/u1?_state=d`, range: '0-9' } })),
      http.put(`${elsewhere.origin}/session/u1`, ({ request }) => {
        const url = new URL(request.url);
        return url.searchParams.get('_state') === 'd' ? new HttpResponse(null, { status: 201, headers: { 'docker-content-digest': url.searchParams.get('digest') ?? '' } }) : new HttpResponse(null, { status: 404 });
      }),
    );
    const c = client({ uploadChunkBytes: 4 });
    const session = await c.startUpload(ref);
    expect(session.location).toBe(`${origin}/v2/org/app/blobs/uploads/u1?_state=a`);
    const chunks: number[] = [];
    expect(await session.write(Readable.from([Buffer.from('0123456789')]), { onChunk: (s) => void chunks.push(s.offset) })).toBe(10);
    expect(chunks).toEqual([4, 8, 10]);
    expect(await session.finish(sha256('0123456789'))).toBe(sha256('0123456789'));

    const patches = requestsTo(registry, 'PATCH');
    expect(patches.map((r) => [new URL(r.url).search, r.body, r.headers['content-type'], r.headers.authorization])).toEqual([
      ['?_state=a', '0123', 'application/octet-stream', BASIC],
      ['?_state=b', '4567', 'application/octet-stream', BASIC],
    ]);
    // The upload handed to another origin: no credentials follow it there.
    const away = elsewhere.requests.map((r) => [r.method, new URL(r.url).searchParams.get('_state'), r.body, r.headers.authorization]);
    expect(away).toEqual([
      ['PATCH', 'c', '89', undefined],
      ['PUT', 'd', '', undefined],
    ]);
    expect(new URL(elsewhere.requests[1]?.url ?? '').searchParams.get('digest')).toBe(sha256('0123456789'));
  });

  it('retries opening a session after a 503, but never sends a chunk twice on its own', async () => {
    let posts = 0;
    registry.use(
      http.post(`${registry.origin}/v2/org/app/blobs/uploads/`, () =>
        ++posts === 1 ? new HttpResponse(null, { status: 503 }) : new HttpResponse(null, { status: 202, headers: { location: '/v2/org/app/blobs/uploads/r1?_state=a' } }),
      ),
      http.patch(`${registry.origin}/v2/org/app/blobs/uploads/r1`, () => new HttpResponse(null, { status: 503 })),
    );
    const session = await client({ retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } }).startUpload(ref);
    expect(posts).toBe(2);
    const err = (await session.write(Readable.from([Buffer.from('abc')])).catch((e: unknown) => e)) as GantryError;
    expect(err).toBeInstanceOf(GantryError);
    expect(requestsTo(registry, 'PATCH')).toHaveLength(1);
    expect(session.offset).toBe(0);
  });

  it('fails when the registry confirms less than was sent, after recording what it confirmed', async () => {
    registry.use(
      http.post(`${registry.origin}/v2/org/app/blobs/uploads/`, () => new HttpResponse(null, { status: 202, headers: { location: '/v2/org/app/blobs/uploads/u2?_state=a' } })),
      http.patch(`${registry.origin}/v2/org/app/blobs/uploads/u2`, () => new HttpResponse(null, { status: 202, headers: { location: '/v2/org/app/blobs/uploads/u2?_state=b', range: '0-1' } })),
    );
    const session = await client().startUpload(ref);
    const saved: number[] = [];
    const err = await session.write(Readable.from([Buffer.from('abcdef')]), { onChunk: (s) => void saved.push(s.offset) }).catch((e: unknown) => e as GantryError);
    expect(err).toMatchObject({ code: 'REGISTRY_ERROR' });
    expect(saved).toEqual([2]);
    expect(session.offset).toBe(2);
  });

  it('passes on a refused chunk as a RegistryError, the confirmed offset unchanged', async () => {
    registry.use(
      http.post(`${registry.origin}/v2/org/app/blobs/uploads/`, () => new HttpResponse(null, { status: 202, headers: { location: '/v2/org/app/blobs/uploads/u3?_state=a' } })),
      http.patch(`${registry.origin}/v2/org/app/blobs/uploads/u3`, () => HttpResponse.json({ errors: [{ code: 'BLOB_UPLOAD_INVALID', message: 'range' }] }, { status: 416 })),
    );
    const session = await client().startUpload(ref);
    const err = (await session.write(Readable.from([Buffer.from('abc')])).catch((e: unknown) => e)) as GantryError;
    expect(err).toBeInstanceOf(GantryError);
    expect(err.message).toContain('BLOB_UPLOAD_INVALID');
    expect(session.offset).toBe(0);
  });

  it('maps a digest the registry refuses at the end to DIGEST_MISMATCH (exit 5)', async () => {
    registry.use(
      http.post(`${registry.origin}/v2/org/app/blobs/uploads/`, () => new HttpResponse(null, { status: 202, headers: { location: '/v2/org/app/blobs/uploads/u4?_state=a' } })),
      http.put(`${registry.origin}/v2/org/app/blobs/uploads/u4`, () => HttpResponse.json({ errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }] }, { status: 400 })),
    );
    const session = await client().startUpload(ref);
    const err = (await session.finish(sha256('x')).catch((e: unknown) => e)) as GantryError;
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.exitCode).toBe(5);
    expect(requestsTo(registry, 'PUT')).toHaveLength(1);
  });

  it('refuses a completed upload the registry stored under another digest', async () => {
    registry.use(
      http.post(`${registry.origin}/v2/org/app/blobs/uploads/`, () => new HttpResponse(null, { status: 202, headers: { location: '/v2/org/app/blobs/uploads/u5?_state=a' } })),
      http.put(`${registry.origin}/v2/org/app/blobs/uploads/u5`, () => new HttpResponse(null, { status: 201, headers: { 'docker-content-digest': sha256('other') } })),
    );
    const session = await client().startUpload(ref);
    await expect(session.finish(sha256('x'))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('resumes at the Range the registry reports, from its new Location', async () => {
    registry.use(
      http.get(`${registry.origin}/v2/org/app/blobs/uploads/u6`, () => new HttpResponse(null, { status: 204, headers: { location: '/v2/org/app/blobs/uploads/u6?_state=fresh', range: '0-9' } })),
    );
    const session = await client().resumeUpload(ref, `${registry.origin}/v2/org/app/blobs/uploads/u6?_state=old`, { expectedOffset: 8 });
    expect(session?.offset).toBe(10);
    expect(session?.location).toBe(`${registry.origin}/v2/org/app/blobs/uploads/u6?_state=fresh`);
  });

  it('reports a session that is gone, or that the registry cannot place, as undefined', async () => {
    registry.use(
      http.get(`${registry.origin}/v2/org/app/blobs/uploads/unknown`, () => HttpResponse.json({ errors: [{ code: 'BLOB_UPLOAD_UNKNOWN' }] }, { status: 404 })),
      http.get(`${registry.origin}/v2/org/app/blobs/uploads/invalid`, () => HttpResponse.json({ errors: [{ code: 'BLOB_UPLOAD_INVALID' }] }, { status: 400 })),
      http.get(`${registry.origin}/v2/org/app/blobs/uploads/norange`, () => new HttpResponse(null, { status: 204 })),
      http.get(`${registry.origin}/v2/org/app/blobs/uploads/broken`, () => HttpResponse.json({ errors: [{ code: 'UNKNOWN' }] }, { status: 500 })),
    );
    const c = client();
    for (const id of ['unknown', 'invalid', 'norange']) {
      expect(await c.resumeUpload(ref, `${registry.origin}/v2/org/app/blobs/uploads/${id}`)).toBeUndefined();
    }
    await expect(c.resumeUpload(ref, `${registry.origin}/v2/org/app/blobs/uploads/broken`)).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
  });
});

describe('mounts', () => {
  it('asks once with mount and from, and reports a 201 as mounted', async () => {
    registry.use(http.post(`${registry.origin}/v2/org/app/blobs/uploads/`, () => new HttpResponse(null, { status: 201, headers: { location: '/v2/org/app/blobs/x' } })));
    expect(await client().mountBlob(ref, sha256('layer'), 'org/base')).toBe(true);
    const [post] = requestsTo(registry, 'POST');
    const query = new URL(post?.url ?? '').searchParams;
    expect([query.get('mount'), query.get('from')]).toEqual([sha256('layer'), 'org/base']);
  });

  it('refuses a malformed source repository before sending anything', async () => {
    await expect(client().mountBlob(ref, sha256('layer'), 'Org/Base x')).rejects.toMatchObject({ code: 'REFERENCE_INVALID' });
    expect(requestsTo(registry, 'POST')).toEqual([]);
  });

  it('cancels the session a refused mount opened', async () => {
    registry.use(
      http.post(`${registry.origin}/v2/org/app/blobs/uploads/`, () => new HttpResponse(null, { status: 202, headers: { location: '/v2/org/app/blobs/uploads/m1?_state=z' } })),
      http.delete(`${registry.origin}/v2/org/app/blobs/uploads/m1`, () => new HttpResponse(null, { status: 204 })),
    );
    expect(await client().mountBlob(ref, sha256('layer'), 'org/base')).toBe(false);
    expect(requestsTo(registry, 'DELETE').map((r) => new URL(r.url).search)).toEqual(['?_state=z']);
  });

  it('still answers false when that cancel fails', async () => {
    registry.use(
      http.post(`${registry.origin}/v2/org/app/blobs/uploads/`, () => new HttpResponse(null, { status: 202, headers: { location: '/v2/org/app/blobs/uploads/m2?_state=z' } })),
      http.delete(`${registry.origin}/v2/org/app/blobs/uploads/m2`, () => HttpResponse.json({ errors: [{ code: 'DENIED' }] }, { status: 403 })),
    );
    expect(await client().mountBlob(ref, sha256('layer'), 'org/base')).toBe(false);
  });
});

describe('blob stat', () => {
  it('gives the size of a blob that is there and undefined for one that is not', async () => {
    // One handler: msw would read the `:` of a digest in a path as a parameter.
    registry.use(
      http.head(`${registry.origin}/v2/org/app/blobs/*`, ({ request }) =>
        new URL(request.url).pathname.endsWith(sha256('here'))
          ? new HttpResponse(null, { status: 200, headers: { 'content-length': '4', 'docker-content-digest': sha256('here') } })
          : new HttpResponse(null, { status: 404 }),
      ),
    );
    const c = client();
    expect(await c.statBlob(ref, sha256('here'))).toEqual({ size: 4, digest: sha256('here') });
    expect(await c.statBlob(ref, sha256('gone'))).toBeUndefined();
    await expect(c.statBlob(ref, 'sha256:../../x')).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
  });
});

describe('manifest writes', () => {
  it('PUTs the exact bytes with their media type and returns their digest', async () => {
    const bytes = Buffer.from('{"schemaVersion":2,  "manifests":[]}');
    registry.use(http.put(`${registry.origin}/v2/org/app/manifests/v1`, () => new HttpResponse(null, { status: 201, headers: { 'docker-content-digest': sha256(bytes.toString()) } })));
    expect(await client().putManifest({ ...ref, tag: 'v1' }, bytes, 'application/vnd.oci.image.index.v1+json')).toBe(sha256(bytes.toString()));
    const [put] = requestsTo(registry, 'PUT');
    expect([put?.body, put?.headers['content-type']]).toEqual([bytes.toString(), 'application/vnd.oci.image.index.v1+json']);
  });

  it('refuses to PUT bytes under a digest they do not have, sending nothing', async () => {
    await expect(client().putManifest({ ...ref, digest: sha256('a') }, Buffer.from('b'), 'application/vnd.oci.image.manifest.v1+json')).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(requestsTo(registry, 'PUT')).toEqual([]);
  });

  it('explains a 405 to DELETE as deletes being disabled', async () => {
    registry.use(http.delete(`${registry.origin}/v2/org/app/manifests/:ref`, () => HttpResponse.json({ errors: [{ code: 'UNSUPPORTED', message: 'The operation is unsupported.' }] }, { status: 405 })));
    const err = (await client().deleteManifest({ ...ref, digest: sha256('m') }).catch((e: unknown) => e)) as GantryError;
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.message).toBe('registry.test: deletes are disabled on this registry (storage.delete.enabled)');
  });

  it('deletes by tag where the registry allows it', async () => {
    registry.use(http.delete(`${registry.origin}/v2/org/app/manifests/old`, () => new HttpResponse(null, { status: 202 })));
    await client().deleteManifest({ ...ref, tag: 'old' });
    expect(requestsTo(registry, 'DELETE').map((r) => new URL(r.url).pathname)).toEqual(['/v2/org/app/manifests/old']);
  });
});
