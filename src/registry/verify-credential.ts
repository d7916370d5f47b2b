import { basicAuthorization } from '../auth/basic.js';
import { parseScopes } from '../auth/scope.js';
import { fetchToken } from '../auth/token-request.js';
import type { Credential } from '../credentials/types.js';
import { GantryError } from '../errors/index.js';
import { readRegistryError } from '../http/error-body.js';
import type { RegistryContext } from './context.js';
import type { RequestOptions } from './types.js';

/**
 * Check a credential as `docker login` does, without storing or caching it:
 * ping; for Basic, GET `/v2/` with it; for Bearer, request a token with it
 * (`account=<username>`, no scope unless the challenge names one), then GET
 * `/v2/` with that token. A registry token is tried on `/v2/` directly. Only
 * a registry whose `/v2/` answers 200 anonymously accepts any credential
 * unchecked. One that answers 401 without a usable challenge (no or
 * unparseable `WWW-Authenticate`) gets the username and password as Basic on
 * `/v2/`, which must then answer 200: docker's login fails there too unless
 * its authenticated retry succeeds.
 *
 * @throws GantryError AUTH_FAILED when the registry or its token service
 *   rejects the credential, or when a registry without a challenge is given
 *   only a token; USAGE for an empty credential; UNSUPPORTED for
 *   an authentication scheme gantry does not speak; INSECURE_CREDENTIALS,
 *   NETWORK, TLS, RegistryError as the requests do.
 */
export async function verifyCredential(
  ctx: RegistryContext,
  registry: string,
  credential: Credential,
  options: RequestOptions = {},
): Promise<void> {
  const hasPassword = Boolean(credential.username && credential.password);
  if (!hasPassword && !credential.identityToken && !credential.registryToken) {
    throw new GantryError('USAGE', `no credential to verify for ${registry}: give a username and password or a token`);
  }
  const signal = options.signal;
  const ping = await ctx.ping(registry, signal);
  if (ping.status === 200) {
    ctx.log?.(`login: ${registry} asks for no authentication; nothing to verify`);
    return;
  }
  const bearer = ping.challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
  const basic = ping.challenges.find((c) => c.scheme === 'basic');
  const unchallenged = ping.challenges.length === 0;
  if (unchallenged) ctx.log?.(`login: ${registry} answers 401 without a challenge; trying the credential on /v2/`);
  let authorization: string;
  if (credential.registryToken) {
    authorization = `Bearer ${credential.registryToken}`;
  } else if (bearer?.params.realm) {
    const token = await fetchToken({
      http: ctx.http,
      registry,
      realm: bearer.params.realm,
      ...(bearer.params.service !== undefined ? { service: bearer.params.service } : {}),
      scopes: bearer.params.scope ? parseScopes(bearer.params.scope) : [],
      credential,
      ...(signal ? { signal } : {}),
    });
    authorization = `Bearer ${token.token}`;
  } else if ((basic || unchallenged) && credential.username && credential.password) {
    authorization = basicAuthorization(credential.username, credential.password);
  } else if (basic) {
    throw new GantryError('AUTH_FAILED', `${registry} takes a username and password, not a token`, {
      hint: "Log in with the registry's username and password.",
    });
  } else if (unchallenged) {
    throw new GantryError('AUTH_FAILED', `${registry} asks for authentication without saying how (no WWW-Authenticate), so a token cannot be checked`, {
      hint: "Log in with the registry's username and password.",
    });
  } else {
    const schemes = ping.challenges.map((c) => c.scheme).join(', ');
    throw new GantryError('UNSUPPORTED', `${registry} asks for authentication gantry does not support (${schemes})`);
  }
  const response = await ctx.http.request({
    method: 'GET',
    url: `${ping.baseUrl}/v2/`,
    headers: { authorization },
    registry,
    ...(signal ? { signal } : {}),
  });
  if (response.status === 200) {
    await response.discard();
    return;
  }
  const cause = await readRegistryError(response, 'GET');
  if (response.status === 401 || response.status === 403) {
    throw new GantryError('AUTH_FAILED', `${registry}: login failed: invalid username, password or token`, {
      hint: 'Check the credentials; for registries with two-factor sign-in, log in with an access token instead of the password.',
      cause,
      details: { registry, status: response.status },
    });
  }
  throw cause;
}
