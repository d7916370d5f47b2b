import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Reference } from '../../src/reference/types.js';
import { parseRateLimit } from '../../src/registry/rate-limit.js';
import { startMswServer, type MswServer } from '../helpers/msw-server.js';
import { imageFixture, registryHandlers, repositoryWith, tokenHandlers } from './fake-registry.js';
import { providerClient } from './provider-client.js';

// Docker Hub: references say docker.io, the API lives on registry-1.docker.io,
// tokens come from auth.docker.io (service registry.docker.io), manifest
// responses carry the pull allowance as `ratelimit-*: 100;w=21600`.
let registry: MswServer;
let auth: MswServer;
const image = imageFixture('alpine');
const issued: string[] = [];
const alpine: Reference = { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' };

beforeAll(async () => {
  registry = await startMswServer();
  auth = await startMswServer();
});
afterEach(() => {
  registry.reset();
  auth.reset();
});
afterAll(async () => {
  await registry.close();
  await auth.close();
});

function dockerHub(options: { anonymous?: boolean } = {}) {
  registry.use(
    ...registryHandlers({
      origin: registry.origin,
      auth: { scheme: 'bearer', realm: `${auth.origin}/token`, service: 'registry.docker.io' },
      repositories: { 'library/alpine': repositoryWith(image, { public: true }), 'alice/private': repositoryWith(image) },
      manifestHeaders: {
        'ratelimit-limit': '100;w=21600',
        'ratelimit-remaining': '76;w=21600',
        'docker-ratelimit-source': '192.0.2.1',
      },
    }),
  );
  auth.use(
    ...tokenHandlers({
      realm: `${auth.origin}/token`,
      service: 'registry.docker.io',
      users: { alice: 'dckr_pat_secret' },
      publicRepositories: ['library/alpine'],
      issued,
    }),
  );
  return providerClient({
    map: { 'https://registry-1.docker.io': registry.origin },
    ...(options.anonymous ? {} : { credentials: { 'docker.io': { username: 'alice', password: 'dckr_pat_secret' } } }),
  });
}

describe('Docker Hub', () => {
  it('talks to registry-1.docker.io for docker.io, with a token from the realm of the challenge', async () => {
    const { client, registries } = dockerHub();
    const manifest = await client.getManifest(alpine);
    expect(manifest.digest).toBe(image.manifestDigest);
    expect(registries).toEqual(['docker.io']);
    const token = auth.requests.find((r) => r.url.includes('/token'));
    const params = new URL(token?.url ?? '').searchParams;
    expect(params.get('service')).toBe('registry.docker.io');
    expect(params.getAll('scope')).toEqual(['repository:library/alpine:pull']);
    await client.close();
  });

  it('looks up credentials under docker.io and logs in with them', async () => {
    const { client, lookups } = dockerHub();
    await client.getManifest({ registry: 'docker.io', repository: 'alice/private', tag: 'latest' });
    expect(lookups).toEqual(['docker.io']);
    expect(new URL(auth.requests[0]?.url ?? '').searchParams.get('account')).toBe('alice');
    await client.close();
  });

  it('exposes the rate-limit headers of a manifest HEAD', async () => {
    const { client } = dockerHub();
    const head = await client.headManifest(alpine);
    expect(parseRateLimit(head.headers)).toEqual({ limit: 100, remaining: 76, windowSeconds: 21600, source: '192.0.2.1' });
    // A HEAD does not count against the allowance; no GET was needed.
    expect(registry.requests.filter((r) => r.url.includes('/manifests/')).map((r) => r.method)).toEqual(['HEAD']);
    await client.close();
  });

  it('reports the pull limit as RATE_LIMITED with its Retry-After, without waiting hours', async () => {
    const { client } = dockerHub();
    registry.use(
      http.get(`${registry.origin}/v2/library/alpine/manifests/:ref`, () =>
        HttpResponse.json(
          { errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your unauthenticated pull rate limit.' }] },
          { status: 429, headers: { 'retry-after': '21600', 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0;w=21600' } },
        ),
      ),
    );
    const started = Date.now();
    const err = await client.getManifest(alpine).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 21_600_000 });
    expect((err as Error).message).toContain('pull rate limit');
    expect(Date.now() - started).toBeLessThan(2_000);
    await client.close();
  });

  it('answers a repository that does not exist with AUTH_REQUIRED and says so in the hint', async () => {
    const { client } = dockerHub({ anonymous: true });
    const err = await client.getManifest({ registry: 'docker.io', repository: 'library/doesnotexist', tag: 'latest' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'AUTH_REQUIRED' });
    expect((err as { hint: string }).hint).toContain('do not exist');
    await client.close();
  });

  it('never shows a Docker Hub token or password in debug lines', async () => {
    const { client, lines } = dockerHub();
    await client.getManifest({ registry: 'docker.io', repository: 'alice/private', tag: 'latest' });
    const text = lines.join('\n');
    for (const secret of ['dckr_pat_secret', ...issued]) expect(text).not.toContain(secret);
    await client.close();
  });
});
