import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Credential } from '../../../src/credentials/types.js';
import type { Reference } from '../../../src/reference/types.js';
import { createRegistryClient, type RegistryClientOptions } from '../../../src/registry/index.js';
import { startMswServer, type MswServer } from '../../helpers/msw-server.js';
import { imageFixture, registryHandlers, repositoryWith, tokenHandlers, type FakeAuth } from '../../providers/fake-registry.js';
import { rejection } from '../../helpers/rejection.js';

let registry: MswServer;
let auth: MswServer;
const image = imageFixture();
const clients: Array<{ close(): Promise<void> }> = [];
const REGISTRY = 'registry.test';
const USERS = { alice: 'alice-pw', carol: 'carol-pw' };

beforeAll(async () => {
  registry = await startMswServer();
  auth = await startMswServer();
});
afterEach(async () => {
  registry.reset();
  auth.reset();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await registry.close();
  await auth.close();
});

const ref = (repository: string): Reference => ({ registry: REGISTRY, repository, tag: 'latest' });

function serve(scheme: 'bearer' | 'basic') {
  const fakeAuth: FakeAuth =
    scheme === 'bearer' ? { scheme: 'bearer', realm: `${auth.origin}/token`, service: 'registry.test' } : { scheme: 'basic', users: USERS };
  registry.use(
    ...registryHandlers({
      origin: registry.origin,
      auth: fakeAuth,
      repositories: { 'org/public': repositoryWith(image, { public: true }), 'org/private': repositoryWith(image), 'org/other': repositoryWith(image) },
    }),
  );
  auth.use(
    ...tokenHandlers({
      realm: `${auth.origin}/token`,
      service: 'registry.test',
      users: USERS,
      publicRepositories: ['org/public'],
      restrictedUsers: { carol: ['org/other'] },
    }),
  );
}

function client(credential: Credential | undefined, options: Partial<RegistryClientOptions> = {}) {
  const lookups: string[] = [];
  const c = createRegistryClient({
    version: 'test',
    env: {},
    endpoint: () => registry.origin,
    insecure: [REGISTRY],
    credentials: async (host) => {
      lookups.push(host);
      return credential;
    },
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    ...options,
  });
  clients.push(c);
  return { client: c, lookups };
}

const tokenRequests = () => auth.requests.filter((r) => r.url.includes('/token'));

describe('the authorized request path (Bearer)', () => {
  it('pulls a public repository anonymously with one token for the pull scope', async () => {
    serve('bearer');
    const { client: c } = client(undefined);
    await c.getManifest(ref('org/public'));
    await c.headManifest(ref('org/public'));
    await c.getBlobBytes(ref('org/public'), image.configDigest);
    expect(tokenRequests()).toHaveLength(1);
    const sent = new URL(tokenRequests()[0]?.url ?? '');
    expect(sent.searchParams.getAll('scope')).toEqual(['repository:org/public:pull']);
    expect(tokenRequests()[0]?.headers.authorization).toBeUndefined();
    // The ping taught the challenge: no request went out without a token after it.
    expect(registry.requests.filter((r) => r.url.includes('/org/') && !r.headers.authorization)).toHaveLength(0);
  });

  it('uses the registry’s credentials at the token service on another host', async () => {
    serve('bearer');
    const { client: c, lookups } = client({ username: 'alice', password: 'alice-pw' });
    await c.getManifest(ref('org/private'));
    expect(lookups).toEqual([REGISTRY]);
    const sent = tokenRequests()[0];
    expect(new URL(sent?.url ?? '').searchParams.get('account')).toBe('alice');
    expect(sent?.headers.authorization).toBe(`Basic ${Buffer.from('alice:alice-pw').toString('base64')}`);
  });

  it('reports an anonymous 401 as AUTH_REQUIRED after one retry with a hint to log in', async () => {
    serve('bearer');
    const { client: c } = client(undefined);
    const err = await rejection(c.getManifest(ref('org/private')));
    expect(err.code).toBe('AUTH_REQUIRED');
    expect(err.hint).toContain(`gantry login ${REGISTRY}`);
    expect(err.message).toContain('org/private');
    expect(registry.requests.filter((r) => r.url.includes('/manifests/'))).toHaveLength(2);
  });

  it('reports a 401 with a fresh token for valid credentials as AUTH_DENIED', async () => {
    serve('bearer');
    const { client: c } = client({ username: 'carol', password: 'carol-pw' });
    const err = await rejection(c.getManifest(ref('org/private')));
    expect(err.code).toBe('AUTH_DENIED');
    expect(err.hint).toContain('repository name');
    expect(await c.getManifest(ref('org/other'))).toMatchObject({ digest: image.manifestDigest });
  });

  it('reports a wrong password as AUTH_FAILED from the token service', async () => {
    serve('bearer');
    const { client: c } = client({ username: 'alice', password: 'wrong' });
    const err = await rejection(c.getManifest(ref('org/private')));
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).not.toContain('wrong');
  });

  it('refuses a plain-HTTP realm when the registry is not marked insecure', async () => {
    serve('bearer');
    const { client: c } = client(undefined, { insecure: [] });
    const err = await rejection(c.getManifest(ref('org/public')));
    expect(err.code).toBe('INSECURE_CREDENTIALS');
    expect(tokenRequests()).toHaveLength(0);
  });
});

describe('the authorized request path (Basic)', () => {
  it('sends Basic credentials after the ping learned the scheme', async () => {
    serve('basic');
    const { client: c } = client({ username: 'alice', password: 'alice-pw' });
    await c.getManifest(ref('org/private'));
    const manifestRequests = registry.requests.filter((r) => r.url.includes('/manifests/'));
    expect(manifestRequests).toHaveLength(1);
    expect(manifestRequests[0]?.headers.authorization).toMatch(/^Basic /);
  });

  it('reports a rejected password as AUTH_FAILED', async () => {
    serve('basic');
    const { client: c } = client({ username: 'alice', password: 'nope' });
    expect((await rejection(c.getManifest(ref('org/private')))).code).toBe('AUTH_FAILED');
  });

  it('reports missing credentials as AUTH_REQUIRED', async () => {
    serve('basic');
    const { client: c } = client(undefined);
    expect((await rejection(c.getManifest(ref('org/private')))).code).toBe('AUTH_REQUIRED');
  });

  it('never sends the password over plain HTTP to a registry not marked insecure', async () => {
    serve('basic');
    const { client: c } = client({ username: 'alice', password: 'alice-pw' }, { insecure: [] });
    expect((await rejection(c.getManifest(ref('org/private')))).code).toBe('INSECURE_CREDENTIALS');
    expect(registry.requests.some((r) => r.headers.authorization)).toBe(false);
  });
});

describe('verifyCredential', () => {
  it('gets a token with account=<user> and no scope, then checks /v2/ with it', async () => {
    serve('bearer');
    const { client: c, lookups } = client(undefined);
    await c.verifyCredential(REGISTRY, { username: 'alice', password: 'alice-pw' });
    const sent = new URL(tokenRequests()[0]?.url ?? '');
    expect(sent.searchParams.get('account')).toBe('alice');
    expect(sent.searchParams.getAll('scope')).toEqual([]);
    const check = registry.requests.at(-1);
    expect(check?.url).toBe(`${registry.origin}/v2/`);
    expect(check?.headers.authorization).toMatch(/^Bearer fake\./);
    // The credential under test is used as given, never looked up.
    expect(lookups).toEqual([]);
  });

  it('throws AUTH_FAILED for a wrong password at the token service', async () => {
    serve('bearer');
    const { client: c } = client(undefined);
    const err = await rejection(c.verifyCredential(REGISTRY, { username: 'alice', password: 'bad' }));
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.hint).toContain('gantry login');
  });

  it('checks Basic credentials on /v2/', async () => {
    serve('basic');
    const { client: c } = client(undefined);
    await c.verifyCredential(REGISTRY, { username: 'alice', password: 'alice-pw' });
    expect((await rejection(c.verifyCredential(REGISTRY, { username: 'alice', password: 'bad' }))).code).toBe('AUTH_FAILED');
  });

  it('sends a registry token to /v2/ directly', async () => {
    serve('bearer');
    const { client: c } = client(undefined);
    expect((await rejection(c.verifyCredential(REGISTRY, { registryToken: 'fake.bm9wZQ' }))).code).toBe('AUTH_FAILED');
    expect(tokenRequests()).toHaveLength(0);
  });

  it('accepts anything for a registry without authentication', async () => {
    registry.use(...registryHandlers({ origin: registry.origin, auth: { scheme: 'none' }, repositories: {} }));
    const { client: c } = client(undefined);
    await expect(c.verifyCredential(REGISTRY, { username: 'x', password: 'y' })).resolves.toBeUndefined();
  });

  it('tries Basic on /v2/ when the registry answers 401 without a usable challenge, and saves nothing it refused', async () => {
    const alice = `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`;
    // No WWW-Authenticate at all: a misconfigured registry (or a proxy in front of it).
    registry.use(
      http.get(`${registry.origin}/v2/`, ({ request }) =>
        request.headers.get('authorization') === alice
          ? HttpResponse.json({})
          : HttpResponse.json({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { status: 401 }),
      ),
    );
    const { client: c } = client(undefined);
    const err = await rejection(c.verifyCredential(REGISTRY, { username: 'alice', password: 'wrong' }));
    expect(err.code).toBe('AUTH_FAILED');
    await expect(c.verifyCredential(REGISTRY, { username: 'alice', password: 'alice-pw' })).resolves.toBeUndefined();
    expect(registry.requests.filter((r) => r.headers.authorization === alice)).toHaveLength(1);
  });

  it('refuses to check a token against a registry that answers 401 without a challenge', async () => {
    registry.use(http.get(`${registry.origin}/v2/`, () => new HttpResponse(null, { status: 401 })));
    const { client: c } = client(undefined);
    expect((await rejection(c.verifyCredential(REGISTRY, { identityToken: 'refresh-1' }))).code).toBe('AUTH_FAILED');
  });

  it('refuses an empty credential as a usage error', async () => {
    const { client: c } = client(undefined);
    expect((await rejection(c.verifyCredential(REGISTRY, {}))).code).toBe('USAGE');
  });
});
