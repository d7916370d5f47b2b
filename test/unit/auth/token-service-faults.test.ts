import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, fetchToken, readTokenError, type TokenRequestOptions, type TokenResponse } from '../../../src/auth/index.js';
import { RegistryError } from '../../../src/errors/index.js';
import { createHttpClient, type HttpClient } from '../../../src/http/index.js';
import { DEFAULT_RETRY, isRetryableStatus, parseRetryAfter } from '../../../src/http/retry-policy.js';
import type { Descriptor } from '../../../src/media/types.js';
import { parseReference } from '../../../src/reference/index.js';
import { createRegistryClient } from '../../../src/registry/index.js';
import type { TransferEvent } from '../../../src/transfer/events.js';
import { copyImages, DEFAULT_ATTEMPTS } from '../../../src/transfer/index.js';
import { isRetryable, withRetries } from '../../../src/transfer/retry.js';
import { createRegistrySource, createRegistryTarget } from '../../../src/transports/registry/index.js';
import { addImage, createMemorySource, createMemoryTarget, createStore, type MemoryStore } from '../../helpers/memory-transport.js';
import { startMswServer, type MswServer, type RecordedRequest } from '../../helpers/msw-server.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { rejection } from '../../helpers/rejection.js';

// A token service that keeps failing must cost what a registry that keeps
// failing costs: the HTTP client's tries once, not once per retry of every
// step above it (the authenticator, the copy engine's manifest and blob steps).

let server: MswServer;
let client: HttpClient;
let stateDir: string;
const closers: Array<{ close(): Promise<void> }> = [];
const pull = [{ type: 'repository', name: 'lib/app', actions: ['pull'] }];

beforeAll(async () => {
  server = await startMswServer();
  stateDir = await makeTempDir('token-faults');
  // The real retry policy (4 attempts, Retry-After honoured up to 60 s), tiny backoffs.
  client = createHttpClient({ userAgent: 'gantry/test', env: {}, retry: { baseDelayMs: 1, maxDelayMs: 2 } });
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c.close()));
  server.reset();
});
afterAll(async () => {
  await client.close();
  await server.close();
  await removeTempDir(stateDir);
});

function options(overrides: Partial<TokenRequestOptions> = {}): TokenRequestOptions {
  return { http: client, registry: server.host, realm: `${server.origin}/token`, service: 'svc', scopes: pull, ...overrides };
}

const tokenRequests = (path = '/token'): RecordedRequest[] => server.requests.filter((r) => new URL(r.url).pathname === path);

describe('a failing token service, through fetchToken and the HTTP client', () => {
  it('a 503 for ever costs the client its tries and comes back marked as retried, which ends the engine\'s retries', async () => {
    server.use(http.get(`${server.origin}/token`, () => HttpResponse.json({ errors: [{ code: 'UNAVAILABLE', message: 'down' }] }, { status: 503 })));
    const err = await rejection(fetchToken(options()));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({ code: 'REGISTRY_ERROR', details: { status: 503, attempts: DEFAULT_RETRY.attempts, retried: true } });
    expect(err.hint).toContain(`${DEFAULT_RETRY.attempts} times in a row`);
    expect(tokenRequests()).toHaveLength(DEFAULT_RETRY.attempts);
    expect(isRetryable(err)).toBe(false);
  });

  it('a 429 with a short Retry-After is waited out by the client, then reported with the mark and the Retry-After', async () => {
    server.use(http.get(`${server.origin}/token`, () => new HttpResponse(null, { status: 429, headers: { 'retry-after': '0' } })));
    const err = await rejection(fetchToken(options()));
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 0, details: { status: 429, attempts: DEFAULT_RETRY.attempts, retried: true } });
    expect(tokenRequests()).toHaveLength(DEFAULT_RETRY.attempts);
    expect(isRetryable(err)).toBe(false);
  });

  it('a Retry-After past the client\'s limit ends at once, unmarked, and its length tells the engine to give up too', async () => {
    server.use(http.get(`${server.origin}/token`, () => new HttpResponse(null, { status: 429, headers: { 'retry-after': '3600' } })));
    const err = await rejection(fetchToken(options()));
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 3_600_000 });
    expect(err.details?.retried).toBeUndefined();
    expect(err.hint).toContain('retry after 1h');
    expect(tokenRequests()).toHaveLength(1);
    expect(isRetryable(err)).toBe(false);
  });

  it('the OAuth2 refresh POST is retried by the client and marked the same way', async () => {
    server.use(http.post(`${server.origin}/token`, () => new HttpResponse(null, { status: 502 })));
    const err = await rejection(fetchToken(options({ credential: { identityToken: 'refresh-secret' } })));
    expect(err).toMatchObject({ code: 'REGISTRY_ERROR', details: { status: 502, method: 'POST', attempts: DEFAULT_RETRY.attempts, retried: true } });
    expect(tokenRequests().map((r) => r.method)).toEqual(Array(DEFAULT_RETRY.attempts).fill('POST'));
    expect(JSON.stringify({ m: err.message, h: err.hint, d: err.details })).not.toContain('refresh-secret');
  });

  it('a fault that goes away within the client\'s budget yields the token', async () => {
    let calls = 0;
    server.use(http.get(`${server.origin}/token`, () => (++calls <= 2 ? new HttpResponse(null, { status: 503 }) : HttpResponse.json({ token: 'late' }))));
    expect((await fetchToken(options())).token).toBe('late');
    expect(tokenRequests()).toHaveLength(3);
  });
});

describe('readTokenError marks as readRegistryError does', () => {
  const NOW = Date.parse('2025-06-01T12:00:00Z');

  function answer(status: number, init: { attempts?: number; headers?: Record<string, string> } = {}): TokenResponse {
    return {
      status,
      headers: init.headers ?? {},
      url: 'https://auth.example/token?scope=x',
      ...(init.attempts !== undefined ? { attempts: init.attempts } : {}),
      read: async () => ({ bytes: new Uint8Array(), truncated: false }),
      discard: async () => undefined,
    };
  }

  it('marks exactly the statuses the HTTP client retries, once it sent the request more than once', async () => {
    const mismatches: string[] = [];
    for (let status = 400; status <= 599; status++) {
      const err = await readTokenError(answer(status, { attempts: 3 }), 'GET');
      const marked = err.details?.retried === true && err.details.attempts === 3;
      if (marked !== isRetryableStatus(status)) mismatches.push(`${status}: marked=${marked}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('leaves a single answer unmarked: the client did not retry it (a POST it may not repeat, or a transport without retries)', async () => {
    const once = await readTokenError(answer(503, { attempts: 1 }), 'POST');
    expect(once.details?.retried).toBeUndefined();
    const unknown = await readTokenError(answer(503), 'GET');
    expect(unknown.details?.retried).toBeUndefined();
    expect(isRetryable(unknown)).toBe(true);
  });

  it('reads Retry-After as the HTTP layer does', async () => {
    const values = ['0', '7', ' 12 ', '1.5', '-3', 'soon', 'Sun, 01 Jun 2025 12:00:30 GMT', 'Sun, 01 Jun 2025 11:00:00 GMT'];
    for (const value of values) {
      const err = await readTokenError(answer(429, { headers: { 'retry-after': value } }), 'GET', { now: () => NOW });
      expect({ value, ms: err.retryAfterMs }).toEqual({ value, ms: parseRetryAfter(value, NOW) });
    }
  });
});

describe('a failing token service, through the layers a copy uses', () => {
  function bearerAt(path: string) {
    return { 'www-authenticate': `Bearer realm="${server.origin}${path}",service="svc"` };
  }

  it('the authenticator inside the engine\'s step retries: the client\'s tries once, not once per step attempt', async () => {
    server.use(http.get(`${server.origin}/token`, () => new HttpResponse(null, { status: 503 })));
    const auth = createAuthenticator({ credentials: async () => undefined, http: client });
    await auth.challenge(server.host, [{ scheme: 'bearer', params: { realm: `${server.origin}/token`, service: 'svc' } }], []);
    let steps = 0;
    const err = await rejection(
      withRetries(
        () => {
          steps++;
          return auth.authorize(server.host, pull);
        },
        { attempts: DEFAULT_ATTEMPTS, delayMs: 1 },
      ),
    );
    expect(err).toMatchObject({ code: 'REGISTRY_ERROR', details: { retried: true } });
    expect(steps).toBe(1);
    expect(tokenRequests()).toHaveLength(DEFAULT_RETRY.attempts);
  });

  function registryClient() {
    const c = createRegistryClient({ version: 'test', env: {}, insecure: true, endpoint: () => server.origin, retry: { baseDelayMs: 1, maxDelayMs: 2 } });
    closers.push(c);
    return c;
  }

  /** An image whose only blob is its config: one blob step to count. */
  function fixture(): { store: MemoryStore; root: Descriptor } {
    const store = createStore();
    return { store, root: addImage(store, { layers: [] }) };
  }

  it('a copy to a registry whose token service is down costs its manifest check the client\'s tries once, not once per engine attempt', async () => {
    const { store, root } = fixture();
    server.use(
      http.get(`${server.origin}/v2/`, () => new HttpResponse(null, { status: 401, headers: bearerAt('/token') })),
      http.get(`${server.origin}/token`, () => new HttpResponse(null, { status: 503 })),
    );
    const target = createRegistryTarget(registryClient(), parseReference(`${server.host}/lib/mirror:1`), { stateDir });
    const outcome = await copyImages(createMemorySource(store), target, [{ root, names: ['1'] }], { retryDelayMs: 1 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(outcome).toMatchObject({ code: 'REGISTRY_ERROR', details: { status: 503, attempts: DEFAULT_RETRY.attempts, retried: true } });
    // Per token asked for (the engine may check the root several ways at once, each sharing or asking for a token).
    const perToken = new Map<string, number>();
    for (const { search } of tokenRequests().map((r) => new URL(r.url))) perToken.set(search, (perToken.get(search) ?? 0) + 1);
    expect(perToken.size).toBeGreaterThan(0);
    expect([...perToken.values()]).toEqual(Array(perToken.size).fill(DEFAULT_RETRY.attempts));
    // The token never came, so nothing reached the repository.
    expect(server.requests.filter((r) => new URL(r.url).pathname.startsWith('/v2/lib/'))).toEqual([]);
  });

  it('a blob whose token cannot be had costs the client\'s tries once: no retry of the blob step', async () => {
    const { store, root } = fixture();
    // The manifest is read with a token from /token; the blob then challenges for a token from
    // /token-b (a registry may move its realm at any time), and that token service is down.
    server.use(
      http.get(`${server.origin}/v2/`, () => new HttpResponse(null, { status: 401, headers: bearerAt('/token') })),
      http.get(`${server.origin}/token`, () => HttpResponse.json({ token: 'for-manifests' })),
      http.get(`${server.origin}/token-b`, () => new HttpResponse(null, { status: 503 })),
      http.get(`${server.origin}/v2/lib/app/manifests/:ref`, ({ params }) => {
        const m = store.manifests.get(String(params.ref));
        return m ? new HttpResponse(m.bytes, { headers: { 'content-type': m.mediaType, 'docker-content-digest': String(params.ref) } }) : new HttpResponse(null, { status: 404 });
      }),
      http.get(`${server.origin}/v2/lib/app/blobs/:digest`, () => new HttpResponse(null, { status: 401, headers: bearerAt('/token-b') })),
    );
    const source = createRegistrySource(registryClient(), parseReference(`${server.host}/lib/app:1`));
    const events: TransferEvent[] = [];
    const outcome = await copyImages(source, createMemoryTarget(), [{ root, names: ['1'] }], { retryDelayMs: 1, onEvent: (e) => events.push(e) }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(outcome).toMatchObject({ code: 'REGISTRY_ERROR', details: { status: 503, attempts: DEFAULT_RETRY.attempts, retried: true } });
    expect(tokenRequests('/token')).toHaveLength(1);
    expect(tokenRequests('/token-b')).toHaveLength(DEFAULT_RETRY.attempts);
    expect(events.filter((e) => e.type === 'blob-retry')).toEqual([]);
  });
});
