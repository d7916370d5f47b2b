import { delay, http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import { DEFAULT_RETRY } from '../../../src/http/retry-policy.js';
import type { Descriptor } from '../../../src/media/types.js';
import { parseReference } from '../../../src/reference/index.js';
import { createRegistryClient } from '../../../src/registry/index.js';
import type { TransferEvent } from '../../../src/transfer/events.js';
import { copyImages } from '../../../src/transfer/index.js';
import { createRegistrySource, createRegistryTarget } from '../../../src/transports/registry/index.js';
import { addImage, createMemorySource, createMemoryTarget, createStore, type MemoryStore } from '../../helpers/memory-transport.js';
import { startMswServer, type MswServer, type RecordedRequest } from '../../helpers/msw-server.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

// How many requests one blob costs when a registry keeps failing, through the
// real stack: HTTP client (which retries a replayable request itself) →
// registry client → registry source/target → copy engine (which retries a
// whole blob step). The engine must not repeat what the client already
// repeated to the end of its policy; it still retries what the client cannot.

const HEADERS_TIMEOUT_MS = 200;

let server: MswServer;
let stateDir: string;
const closers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  server = await startMswServer();
  stateDir = await makeTempDir('retry-stacking');
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c.close()));
  server.reset();
});
afterAll(async () => {
  await server.close();
  await removeTempDir(stateDir);
});

function client() {
  const c = createRegistryClient({
    version: 'test',
    env: {},
    insecure: true,
    endpoint: () => server.origin,
    // Real policy (attempts, timeout retries), tiny waits.
    retry: { baseDelayMs: 1, maxDelayMs: 4 },
    timeouts: { headersMs: HEADERS_TIMEOUT_MS },
  });
  closers.push(c);
  return c;
}

/** The source repository `lib/app` served from `store`, with `layerAnswer` deciding each GET of `layer`. */
function serveSource(store: MemoryStore, layer: Descriptor, layerAnswer: (call: number) => Promise<Response>): void {
  let calls = 0;
  server.use(
    http.get(`${server.origin}/v2/`, () => HttpResponse.json({})),
    http.get(`${server.origin}/v2/lib/app/manifests/:ref`, ({ params }) => {
      const m = store.manifests.get(String(params.ref));
      return m ? new HttpResponse(m.bytes, { headers: { 'content-type': m.mediaType, 'docker-content-digest': String(params.ref) } }) : new HttpResponse(null, { status: 404 });
    }),
    http.get(`${server.origin}/v2/lib/app/blobs/:digest`, ({ params }) => {
      const digest = String(params.digest);
      if (digest === layer.digest) return layerAnswer(++calls);
      const bytes = store.blobs.get(digest);
      return bytes ? new HttpResponse(bytes, { headers: { 'content-length': String(bytes.byteLength) } }) : new HttpResponse(null, { status: 404 });
    }),
  );
}

function fixture(): { store: MemoryStore; root: Descriptor; layer: Descriptor } {
  const store = createStore();
  const root = addImage(store, { layers: ['stacking'], layerSize: 2048 });
  const manifest = JSON.parse(new TextDecoder().decode(store.manifests.get(root.digest)?.bytes)) as { layers: Descriptor[] };
  const [layer] = manifest.layers;
  if (!layer) throw new Error('fixture without a layer');
  return { store, root, layer };
}

const requestsFor = (path: string): RecordedRequest[] => server.requests.filter((r) => new URL(r.url).pathname === path);

async function copyFromRegistry(store: MemoryStore, root: Descriptor) {
  const source = createRegistrySource(client(), parseReference(`${server.host}/lib/app:1`));
  const target = createMemoryTarget();
  const events: TransferEvent[] = [];
  const outcome = await copyImages(source, target, [{ root, names: ['1'] }], { retryDelayMs: 1, onEvent: (e) => events.push(e) }).then(
    () => undefined,
    (err: unknown) => err,
  );
  return { outcome, target, retries: events.filter((e) => e.type === 'blob-retry') };
}

describe('retries of a failing blob do not multiply', () => {
  it('a blob GET answered 503 for ever costs the HTTP client its tries once: 4 requests, not 3 × 4', async () => {
    const { store, root, layer } = fixture();
    serveSource(store, layer, async () => HttpResponse.json({ errors: [{ code: 'UNAVAILABLE', message: 'overloaded' }] }, { status: 503 }));
    const { outcome, retries } = await copyFromRegistry(store, root);
    expect(outcome).toBeInstanceOf(GantryError);
    expect(outcome).toMatchObject({ code: 'REGISTRY_ERROR', details: { status: 503, attempts: DEFAULT_RETRY.attempts, retried: true } });
    expect(requestsFor(`/v2/lib/app/blobs/${layer.digest}`)).toHaveLength(DEFAULT_RETRY.attempts);
    expect(retries).toEqual([]);
  });

  it('a blob GET whose answer never comes costs one timeout retry: 2 requests, not 3 × 2', async () => {
    const { store, root, layer } = fixture();
    serveSource(store, layer, async () => {
      await delay('infinite');
      return new HttpResponse(null, { status: 500 });
    });
    const { outcome, retries } = await copyFromRegistry(store, root);
    expect(outcome).toMatchObject({ code: 'TIMEOUT', details: { attempts: 1 + DEFAULT_RETRY.timeoutRetries, retried: true } });
    expect(requestsFor(`/v2/lib/app/blobs/${layer.digest}`)).toHaveLength(1 + DEFAULT_RETRY.timeoutRetries);
    expect(retries).toEqual([]);
  });

  it('a burst shorter than the client\'s budget is ridden out by the client alone', async () => {
    const { store, root, layer } = fixture();
    const bytes = store.blobs.get(layer.digest) as Uint8Array;
    serveSource(store, layer, async (call) => (call <= 2 ? new HttpResponse(null, { status: 503 }) : new HttpResponse(bytes)));
    const { outcome, target, retries } = await copyFromRegistry(store, root);
    expect(outcome).toBeUndefined();
    expect(target.store.tags.get('1')).toBe(root.digest);
    expect(requestsFor(`/v2/lib/app/blobs/${layer.digest}`)).toHaveLength(3);
    expect(retries).toEqual([]);
  });

  it('what the client cannot retry (bytes that do not match) is still retried by the engine', async () => {
    const { store, root, layer } = fixture();
    const bytes = store.blobs.get(layer.digest) as Uint8Array;
    const corrupt = Uint8Array.from(bytes, (b, i) => (i === 100 ? b ^ 0xff : b));
    serveSource(store, layer, async (call) => new HttpResponse(call === 1 ? corrupt : bytes));
    const { outcome, target, retries } = await copyFromRegistry(store, root);
    expect(outcome).toBeUndefined();
    expect(target.store.tags.get('1')).toBe(root.digest);
    expect(requestsFor(`/v2/lib/app/blobs/${layer.digest}`)).toHaveLength(2);
    expect(retries).toHaveLength(1);
  });

  it('a destination answering 503 to everything costs its root checks (by digest, by tag) the client\'s 4 tries at most, then the copy stops', async () => {
    const { store, root } = fixture();
    server.use(
      http.get(`${server.origin}/v2/`, () => HttpResponse.json({})),
      http.all(`${server.origin}/v2/*`, () => new HttpResponse(null, { status: 503 })),
    );
    const target = createRegistryTarget(client(), parseReference(`${server.host}/lib/mirror:1`), { stateDir });
    const outcome = await copyImages(createMemorySource(store), target, [{ root, names: ['1'] }], { retryDelayMs: 1 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(outcome).toMatchObject({ code: 'REGISTRY_ERROR', details: { status: 503, retried: true } });
    const failing = server.requests.filter((r) => new URL(r.url).pathname !== '/v2/');
    // The client's tries, once: before the engine respected the client's mark, each of its attempts repeated them.
    // The two root checks run side by side; the first to spend the client's tries stops the copy,
    // which cancels the other: neither is ever repeated by the engine.
    const byTag = failing.filter((r) => new URL(r.url).pathname === '/v2/lib/mirror/manifests/1').length;
    const byDigest = failing.filter((r) => new URL(r.url).pathname === `/v2/lib/mirror/manifests/${root.digest}`).length;
    expect(byTag + byDigest).toBe(failing.length);
    expect(Math.max(byTag, byDigest)).toBe(DEFAULT_RETRY.attempts);
    expect(Math.min(byTag, byDigest)).toBeLessThanOrEqual(DEFAULT_RETRY.attempts);
    expect(failing.every((r) => r.method === 'HEAD')).toBe(true);
  });
});
