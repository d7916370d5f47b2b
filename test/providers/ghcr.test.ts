import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Reference } from '../../src/reference/types.js';
import { startMswServer, type MswServer } from '../helpers/msw-server.js';
import { imageFixture, registryHandlers, repositoryWith, tokenHandlers } from './fake-registry.js';
import { collect, providerClient } from './provider-client.js';

// GHCR: the realm is on the registry's own host (https://ghcr.io/token),
// anonymous tokens are handed out for public packages, and the ping's
// challenge already names a scope.
let ghcr: MswServer;
const image = imageFixture('ghcr');
const tags = Array.from({ length: 25 }, (_, i) => `v1.${String(i).padStart(2, '0')}`);

beforeAll(async () => {
  ghcr = await startMswServer();
});
afterEach(() => ghcr.reset());
afterAll(() => ghcr.close());

function serve() {
  ghcr.use(
    http.get(`${ghcr.origin}/v2/`, () =>
      HttpResponse.json(
        { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
        { status: 401, headers: { 'www-authenticate': `Bearer realm="${ghcr.origin}/token",service="ghcr.io",scope="repository:user/image:pull"` } },
      ),
    ),
    ...registryHandlers({
      origin: ghcr.origin,
      auth: { scheme: 'bearer', realm: `${ghcr.origin}/token`, service: 'ghcr.io' },
      repositories: { 'octo/tool': repositoryWith(image, { public: true, tags }), 'octo/secret': repositoryWith(image) },
      maxPageSize: 10,
    }),
    ...tokenHandlers({ realm: `${ghcr.origin}/token`, service: 'ghcr.io', users: { octo: 'ghp_token' }, publicRepositories: ['octo/tool'] }),
  );
  return providerClient({ map: { 'https://ghcr.io': ghcr.origin } });
}

const tool: Reference = { registry: 'ghcr.io', repository: 'octo/tool', tag: 'latest' };

describe('GHCR', () => {
  it('pulls a public package with an anonymous token', async () => {
    const { client } = serve();
    expect((await client.getManifest(tool)).digest).toBe(image.manifestDigest);
    const token = ghcr.requests.find((r) => r.url.includes('/token'));
    expect(token?.headers.authorization).toBeUndefined();
    expect(new URL(token?.url ?? '').searchParams.getAll('scope')).toEqual(['repository:octo/tool:pull']);
    await client.close();
  });

  it('lists every tag of a package across Link pages, with one token', async () => {
    const { client } = serve();
    const pages = await collect(client.listTags(tool));
    expect(pages.map((p) => p.length)).toEqual([10, 10, 7]);
    expect(pages.flat()).toEqual([...tags, 'latest', 'latest-index'].sort());
    expect(ghcr.requests.filter((r) => r.url.includes('/token'))).toHaveLength(1);
    await client.close();
  });

  it('asks a private package anonymously and reports AUTH_REQUIRED', async () => {
    const { client } = serve();
    await expect(client.getManifest({ ...tool, repository: 'octo/secret' })).rejects.toMatchObject({ code: 'AUTH_REQUIRED' });
    await client.close();
  });
});
