import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, type AuthenticatorOptions } from '../../../src/auth/index.js';
import type { Challenge } from '../../../src/auth/types.js';
import type { Credential } from '../../../src/credentials/types.js';
import { GantryError } from '../../../src/errors/index.js';
import { createHttpClient, type HttpClient } from '../../../src/http/index.js';
import { startMswServer, type MswServer } from '../../helpers/msw-server.js';

let server: MswServer;
let client: HttpClient;
let issued = 0;
const pullApp = [{ type: 'repository', name: 'org/app', actions: ['pull'] }];

beforeAll(async () => {
  server = await startMswServer();
  client = createHttpClient({ userAgent: 'gantry/test', env: {}, retry: { baseDelayMs: 1, maxDelayMs: 2 } });
});
afterEach(() => {
  server.reset();
  issued = 0;
});
afterAll(async () => {
  await client.close();
  await server.close();
});

function serveTokens(): void {
  server.use(
    http.get(`${server.origin}/token`, ({ request }) => {
      issued++;
      const scopes = new URL(request.url).searchParams.getAll('scope').join(' ');
      return HttpResponse.json({ token: `tok-${issued}`, expires_in: 300, scopes });
    }),
  );
}

function bearer(extra: Record<string, string> = {}): Challenge[] {
  return [{ scheme: 'bearer', params: { realm: `${server.origin}/token`, service: 'svc', ...extra } }];
}

function authenticator(credential?: Credential, overrides: Partial<AuthenticatorOptions> = {}) {
  const lookups: string[] = [];
  const auth = createAuthenticator({
    credentials: async (host) => {
      lookups.push(host);
      return credential;
    },
    http: client,
    ...overrides,
  });
  return { auth, lookups };
}

const host = () => server.host;

describe('createAuthenticator', () => {
  it('sends nothing before the registry has challenged', async () => {
    const { auth } = authenticator({ username: 'u', password: 'p' });
    expect(await auth.authorize(host(), pullApp)).toBeUndefined();
  });

  it('fetches a bearer token per scope set and reuses it from the cache', async () => {
    serveTokens();
    const { auth } = authenticator();
    expect(await auth.challenge(host(), bearer(), [])).toBe(true);
    expect(await auth.authorize(host(), pullApp)).toBe('Bearer tok-1');
    expect(await auth.authorize(host(), [{ type: 'repository', name: 'org/app', actions: ['pull'] }])).toBe('Bearer tok-1');
    expect(await auth.authorize(host(), [{ type: 'repository', name: 'org/app', actions: ['push', 'pull'] }])).toBe('Bearer tok-2');
    expect(issued).toBe(2);
    expect(new URL(server.requests[1]?.url ?? '').searchParams.getAll('scope')).toEqual(['repository:org/app:pull,push']);
  });

  it('merges the scopes it is asked for: push with pull, and a cross-repository pull', async () => {
    serveTokens();
    const { auth } = authenticator({ username: 'u', password: 'p' });
    await auth.challenge(host(), bearer(), []);
    const scopes = [
      { type: 'repository', name: 'org/app', actions: ['push'] },
      { type: 'repository', name: 'org/base', actions: ['pull'] },
      { type: 'repository', name: 'org/app', actions: ['pull'] },
    ];
    await auth.authorize(host(), scopes);
    expect(new URL(server.requests[0]?.url ?? '').searchParams.getAll('scope')).toEqual(['repository:org/app:pull,push', 'repository:org/base:pull']);
    // The same access asked in another order is the same cached token.
    await auth.authorize(host(), [...scopes].reverse());
    expect(issued).toBe(1);
  });

  it('shares one token fetch and one credential lookup between concurrent requests', async () => {
    serveTokens();
    const { auth, lookups } = authenticator({ username: 'u', password: 'p' });
    await auth.challenge(host(), bearer(), []);
    const headers = await Promise.all(Array.from({ length: 10 }, () => auth.authorize(host(), pullApp)));
    expect(new Set(headers)).toEqual(new Set(['Bearer tok-1']));
    expect(issued).toBe(1);
    expect(lookups).toEqual([host()]);
  });

  it('answers a Basic challenge with the username and password', async () => {
    const { auth } = authenticator({ username: 'alice', password: 'pw' });
    expect(await auth.challenge(host(), [{ scheme: 'basic', params: { realm: 'Registry' } }], pullApp)).toBe(true);
    expect(await auth.authorize(host(), pullApp)).toBe(`Basic ${Buffer.from('alice:pw').toString('base64')}`);
  });

  it('cannot answer a Basic challenge without a password', async () => {
    const { auth } = authenticator(undefined);
    expect(await auth.challenge(host(), [{ scheme: 'basic', params: {} }], pullApp)).toBe(false);
    expect(await auth.authorize(host(), pullApp)).toBeUndefined();
  });

  it('prefers Bearer over Basic when both are offered', async () => {
    serveTokens();
    const { auth } = authenticator({ username: 'alice', password: 'pw' });
    await auth.challenge(host(), [{ scheme: 'basic', params: {} }, ...bearer()], []);
    expect(await auth.authorize(host(), pullApp)).toBe('Bearer tok-1');
  });

  it('sends a registry token as the bearer itself, and gives up when it is refused', async () => {
    serveTokens();
    const { auth } = authenticator({ registryToken: 'pre-issued' });
    expect(await auth.authorize(host(), pullApp)).toBe('Bearer pre-issued');
    expect(await auth.challenge(host(), bearer(), pullApp)).toBe(false);
    expect(issued).toBe(0);
  });

  it('does not support other schemes', async () => {
    const { auth } = authenticator({ username: 'u', password: 'p' });
    expect(await auth.challenge(host(), [{ scheme: 'negotiate', params: {} }], pullApp)).toBe(false);
  });

  it('passes a failing credential lookup on instead of going anonymous', async () => {
    serveTokens();
    const failure = new GantryError('CREDENTIAL_HELPER_FAILED', 'docker-credential-pass failed');
    const auth = createAuthenticator({ credentials: async () => Promise.reject(failure), http: client });
    await expect(auth.challenge(host(), bearer(), [])).rejects.toBe(failure);
    await expect(auth.authorize(host(), pullApp)).rejects.toBe(failure);
    expect(issued).toBe(0);
  });

  it('adds the scope a challenge names to the token for the same request scopes', async () => {
    serveTokens();
    const { auth } = authenticator();
    await auth.challenge(host(), bearer(), []);
    await auth.authorize(host(), pullApp);
    const demanded = bearer({ scope: 'repository:org/app:pull repository:org/base:pull', error: 'insufficient_scope' });
    expect(await auth.challenge(host(), demanded, pullApp)).toBe(true);
    expect(await auth.authorize(host(), pullApp)).toBe('Bearer tok-2');
    expect(new URL(server.requests[1]?.url ?? '').searchParams.getAll('scope')).toEqual(['repository:org/app:pull', 'repository:org/base:pull']);
  });

  it('fetches a new token after a 401 unless the token is brand new', async () => {
    serveTokens();
    let now = 1_000_000;
    const { auth } = authenticator(undefined, { now: () => now });
    await auth.challenge(host(), bearer(), []);
    expect(await auth.authorize(host(), pullApp)).toBe('Bearer tok-1');
    // A token fetched a moment ago that is refused lacks access: fetching again would not help.
    expect(await auth.challenge(host(), bearer(), pullApp)).toBe(true);
    expect(await auth.authorize(host(), pullApp)).toBe('Bearer tok-1');
    // An older one may have been revoked: fetch anew.
    now += 60_000;
    expect(await auth.challenge(host(), bearer(), pullApp)).toBe(true);
    expect(await auth.authorize(host(), pullApp)).toBe('Bearer tok-2');
  });

  it('starts over when the realm changes', async () => {
    serveTokens();
    server.use(http.get(`${server.origin}/other-token`, () => HttpResponse.json({ token: 'other' })));
    const { auth } = authenticator();
    await auth.challenge(host(), bearer(), []);
    expect(await auth.authorize(host(), pullApp)).toBe('Bearer tok-1');
    await auth.challenge(host(), [{ scheme: 'bearer', params: { realm: `${server.origin}/other-token` } }], pullApp);
    expect(await auth.authorize(host(), pullApp)).toBe('Bearer other');
  });

  it('logs which token it fetched without the token or the password', async () => {
    serveTokens();
    const lines: string[] = [];
    const { auth } = authenticator({ username: 'alice', password: 'hunter2-secret' }, { log: (l) => lines.push(l) });
    await auth.challenge(host(), bearer(), []);
    await auth.authorize(host(), pullApp);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('repository:org/app:pull');
    expect(lines[0]).toContain('with credentials');
    expect(lines[0]).not.toContain('tok-1');
    expect(lines[0]).not.toContain('hunter2-secret');
  });
});
