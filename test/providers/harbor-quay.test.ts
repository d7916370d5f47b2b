import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMswServer, type MswServer } from '../helpers/msw-server.js';
import { imageFixture, registryHandlers, repositoryWith, tokenHandlers } from './fake-registry.js';
import { providerClient } from './provider-client.js';

// Harbor and Quay put their token endpoint at a path of the registry host,
// and some deployments (Harbor behind a gateway, Quay with an org-scoped
// realm) give the realm a query string of its own, which must be kept.
let server: MswServer;
const image = imageFixture('harbor');

beforeAll(async () => {
  server = await startMswServer();
});
afterEach(() => server.reset());
afterAll(() => server.close());

describe.each([
  { name: 'Harbor', host: 'harbor.example.com', path: '/service/token?gateway=edge', service: 'harbor-registry' },
  { name: 'Quay', host: 'quay.io', path: '/v2/auth?realm_hint=quay', service: 'quay.io' },
])('$name', ({ host, path, service }) => {
  it('keeps the realm query string and adds service and scope', async () => {
    const realm = `${server.origin}${path}`;
    // Token handlers first: Quay's realm lives under /v2/ itself.
    server.use(
      ...tokenHandlers({ realm, service, users: { robot: 'robot-secret' } }),
      ...registryHandlers({ origin: server.origin, auth: { scheme: 'bearer', realm, service }, repositories: { 'project/app': repositoryWith(image) } }),
    );
    const { client } = providerClient({ map: { [`https://${host}`]: server.origin }, credentials: { [host]: { username: 'robot', password: 'robot-secret' } } });
    expect((await client.getManifest({ registry: host, repository: 'project/app', tag: 'latest' })).digest).toBe(image.manifestDigest);
    const token = server.requests.find((r) => r.url.startsWith(realm.split('?')[0] ?? ''));
    const url = new URL(token?.url ?? '');
    const [key, value] = (path.split('?')[1] ?? '').split('=');
    expect(url.searchParams.get(key ?? '')).toBe(value);
    expect(url.searchParams.get('service')).toBe(service);
    expect(url.searchParams.getAll('scope')).toEqual(['repository:project/app:pull']);
    expect(url.searchParams.get('account')).toBe('robot');
    await client.close();
  });
});
