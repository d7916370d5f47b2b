import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMswServer, type MswServer } from '../helpers/msw-server.js';
import { imageFixture, registryHandlers, repositoryWith, tokenHandlers } from './fake-registry.js';
import { providerClient } from './provider-client.js';

// ACR: `az acr login` stores an identity (refresh) token with the username
// 00000000-0000-0000-0000-000000000000. The token service takes it with the
// OAuth2 refresh-token POST; token services without OAuth2 answer that POST
// 404, and the GET with the refresh token as Basic password must follow.
const ACR = 'contoso.azurecr.io';
const USER = '00000000-0000-0000-0000-000000000000';
const REFRESH = 'acr-refresh-token-value';
let server: MswServer;
const image = imageFixture('acr');

beforeAll(async () => {
  server = await startMswServer();
});
afterEach(() => server.reset());
afterAll(() => server.close());

function serve(oauth: boolean) {
  const realm = `${server.origin}/oauth2/token`;
  server.use(
    ...registryHandlers({ origin: server.origin, auth: { scheme: 'bearer', realm, service: ACR }, repositories: { 'team/app': repositoryWith(image) } }),
    ...tokenHandlers({ realm, service: ACR, users: {}, refreshTokens: { [REFRESH]: 'team-member' }, oauth, tokenField: 'access_token' }),
  );
  return providerClient({ map: { [`https://${ACR}`]: server.origin }, credentials: { [ACR]: { username: USER, identityToken: REFRESH } } });
}

const tokenRequests = () => server.requests.filter((r) => r.url.includes('/oauth2/token'));

describe('ACR', () => {
  it('exchanges the identity token with the OAuth2 refresh-token POST', async () => {
    const { client } = serve(true);
    expect((await client.getManifest({ registry: ACR, repository: 'team/app', tag: 'latest' })).digest).toBe(image.manifestDigest);
    expect(tokenRequests().map((r) => r.method)).toEqual(['POST']);
    const form = new URLSearchParams(tokenRequests()[0]?.body);
    expect(form.get('grant_type')).toBe('refresh_token');
    expect(form.get('refresh_token')).toBe(REFRESH);
    expect(form.get('service')).toBe(ACR);
    expect(form.get('scope')).toBe('repository:team/app:pull');
    expect(form.get('client_id')).toBe('gantry');
    await client.close();
  });

  it('falls back to GET when the POST answers 404', async () => {
    const { client } = serve(false);
    expect((await client.getManifest({ registry: ACR, repository: 'team/app', tag: 'latest' })).digest).toBe(image.manifestDigest);
    expect(tokenRequests().map((r) => r.method)).toEqual(['POST', 'GET']);
    expect(tokenRequests()[1]?.headers.authorization).toBe(`Basic ${Buffer.from(`${USER}:${REFRESH}`).toString('base64')}`);
    await client.close();
  });

  it('verifies an identity token as docker login does', async () => {
    const { client } = serve(true);
    await client.verifyCredential(ACR, { username: USER, identityToken: REFRESH });
    await expect(client.verifyCredential(ACR, { username: USER, identityToken: 'revoked' })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await client.close();
  });
});
