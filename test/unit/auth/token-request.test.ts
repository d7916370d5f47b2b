import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, type TokenRequestOptions } from '../../../src/auth/index.js';
import { createHttpClient, type HttpClient } from '../../../src/http/index.js';
import { startMswServer, type MswServer } from '../../helpers/msw-server.js';
import { rejection } from '../../helpers/rejection.js';

let server: MswServer;
let client: HttpClient;
const NOW = Date.parse('2025-06-01T12:00:00Z');
const pull = [{ type: 'repository', name: 'org/app', actions: ['pull'] }];

beforeAll(async () => {
  server = await startMswServer();
  client = createHttpClient({ userAgent: 'gantry/test', env: {}, retry: { baseDelayMs: 1, maxDelayMs: 2 } });
});
afterEach(() => server.reset());
afterAll(async () => {
  await client.close();
  await server.close();
});

function options(overrides: Partial<TokenRequestOptions> = {}): TokenRequestOptions {
  return { http: client, registry: server.host, realm: `${server.origin}/token`, service: 'registry.test', scopes: pull, now: () => NOW, ...overrides };
}

function tokenEndpoint(body: Record<string, unknown> = { token: 'tok-1' }) {
  return http.get(`${server.origin}/token`, () => HttpResponse.json(body));
}

describe('fetchToken', () => {
  it('asks anonymously with service and one scope parameter per scope, keeping the realm query', async () => {
    server.use(http.get(`${server.origin}/auth/token`, () => HttpResponse.json({ token: 'anon' })));
    const token = await fetchToken(
      options({
        realm: `${server.origin}/auth/token?tenant=t1`,
        scopes: [...pull, { type: 'repository', name: 'other/base', actions: ['pull'] }],
      }),
    );
    expect(token.token).toBe('anon');
    const sent = new URL(server.requests[0]?.url ?? '');
    expect(sent.searchParams.get('tenant')).toBe('t1');
    expect(sent.searchParams.get('service')).toBe('registry.test');
    expect(sent.searchParams.getAll('scope')).toEqual(['repository:org/app:pull', 'repository:other/base:pull']);
    expect(sent.searchParams.has('account')).toBe(false);
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('sends a username and password as Basic with account=<username>', async () => {
    server.use(tokenEndpoint());
    await fetchToken(options({ credential: { username: 'alice', password: 'pässword' } }));
    const sent = server.requests[0];
    expect(new URL(sent?.url ?? '').searchParams.get('account')).toBe('alice');
    expect(sent?.headers.authorization).toBe(`Basic ${Buffer.from('alice:pässword').toString('base64')}`);
  });

  it('exchanges an identity token with the OAuth2 refresh-token POST', async () => {
    server.use(http.post(`${server.origin}/token`, () => HttpResponse.json({ access_token: 'oauth-tok', expires_in: 600 })));
    const token = await fetchToken(
      options({ credential: { identityToken: 'refresh-me' }, scopes: [...pull, { type: 'repository', name: 'b', actions: ['pull', 'push'] }] }),
    );
    expect(token.token).toBe('oauth-tok');
    expect(token.lifetimeMs).toBe(600_000);
    const sent = server.requests[0];
    expect(sent?.method).toBe('POST');
    expect(sent?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(sent?.body))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'refresh-me',
      client_id: 'gantry',
      service: 'registry.test',
      scope: 'repository:org/app:pull repository:b:pull,push',
    });
  });

  it('falls back to GET with the identity token as Basic password when the POST answers 404', async () => {
    server.use(
      http.post(`${server.origin}/token`, () => new HttpResponse('not found', { status: 404 })),
      tokenEndpoint({ token: 'from-get' }),
    );
    const token = await fetchToken(options({ credential: { username: '00000000-0000-0000-0000-000000000000', identityToken: 'rt' } }));
    expect(token.token).toBe('from-get');
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'GET']);
    expect(server.requests[1]?.headers.authorization).toBe(`Basic ${Buffer.from('00000000-0000-0000-0000-000000000000:rt').toString('base64')}`);
  });

  it('prefers `token` over `access_token` and accepts either alone', async () => {
    server.use(tokenEndpoint({ token: 'a', access_token: 'b' }));
    expect((await fetchToken(options())).token).toBe('a');
    server.use(tokenEndpoint({ access_token: 'b' }));
    expect((await fetchToken(options())).token).toBe('b');
  });

  it('defaults the lifetime to 60 s and never goes below it', async () => {
    server.use(tokenEndpoint({ token: 't' }));
    expect(await fetchToken(options())).toMatchObject({ lifetimeMs: 60_000, expiresAt: NOW + 60_000 });
    server.use(tokenEndpoint({ token: 't', expires_in: 5 }));
    expect(await fetchToken(options())).toMatchObject({ lifetimeMs: 60_000 });
    server.use(tokenEndpoint({ token: 't', expires_in: '300' }));
    expect(await fetchToken(options())).toMatchObject({ lifetimeMs: 300_000, expiresAt: NOW + 300_000 });
  });

  it('counts the lifetime from issued_at, unless the clocks plainly disagree', async () => {
    server.use(tokenEndpoint({ token: 't', expires_in: 300, issued_at: '2025-06-01T11:58:00Z' }));
    expect((await fetchToken(options())).expiresAt).toBe(NOW - 120_000 + 300_000);
    server.use(tokenEndpoint({ token: 't', expires_in: 300, issued_at: '2025-06-01T13:00:00Z' }));
    expect((await fetchToken(options())).expiresAt).toBe(NOW + 300_000);
    server.use(tokenEndpoint({ token: 't', expires_in: 300, issued_at: '2025-06-01T10:00:00Z' }));
    expect((await fetchToken(options())).expiresAt).toBe(NOW + 300_000);
  });

  it('reports rejected credentials as AUTH_FAILED without echoing them', async () => {
    server.use(http.get(`${server.origin}/token`, () => HttpResponse.json({ details: 'incorrect username or password' }, { status: 401 })));
    const err = await rejection(fetchToken(options({ credential: { username: 'alice', password: 'hunter2-secret' } })));
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.hint).toContain('gantry login');
    expect(JSON.stringify({ m: err.message, h: err.hint, d: err.details })).not.toContain('hunter2-secret');
  });

  it('reports a refresh token refused with OAuth2 invalid_grant as AUTH_FAILED', async () => {
    server.use(http.post(`${server.origin}/token`, () => HttpResponse.json({ error: 'invalid_grant', error_description: 'revoked' }, { status: 400 })));
    const err = await rejection(fetchToken(options({ credential: { identityToken: 'revoked-token' } })));
    expect(err.code).toBe('AUTH_FAILED');
    expect(JSON.stringify({ m: err.message, d: err.details })).not.toContain('revoked-token');
  });

  it('reports an anonymous rejection as AUTH_REQUIRED', async () => {
    server.use(http.get(`${server.origin}/token`, () => new HttpResponse(null, { status: 403 })));
    expect((await rejection(fetchToken(options()))).code).toBe('AUTH_REQUIRED');
  });

  it('refuses a plain-HTTP realm for a registry that must use HTTPS, sending nothing', async () => {
    server.use(tokenEndpoint());
    const err = await rejection(fetchToken(options({ registry: 'registry.example.com', credential: { username: 'u', password: 'p' } })));
    expect(err.code).toBe('INSECURE_CREDENTIALS');
    const anonymous = await rejection(fetchToken(options({ registry: 'registry.example.com' })));
    expect(anonymous.code).toBe('INSECURE_CREDENTIALS');
    expect(server.requests).toHaveLength(0);
  });

  it('reports an answer without a usable token as REGISTRY_ERROR', async () => {
    server.use(tokenEndpoint({ nothing: true }));
    expect((await rejection(fetchToken(options()))).code).toBe('REGISTRY_ERROR');
    server.use(tokenEndpoint({ token: 'has space\r\ninjected: header' }));
    expect((await rejection(fetchToken(options()))).code).toBe('REGISTRY_ERROR');
  });

  it('retries a token service fault and reports a lasting one as a registry error', async () => {
    server.use(http.get(`${server.origin}/token`, () => new HttpResponse(null, { status: 503 })));
    const err = await rejection(fetchToken(options()));
    expect(err.code).toBe('REGISTRY_ERROR');
    expect(server.requests).toHaveLength(4);
  });
});
