import type { Credential } from '../credentials/types.js';
import { redactUrl } from '../internal/redact.js';
import { basicAuthorization } from './basic.js';
import { formatScope, mergeScopes, parseScopes, scopeKey } from './scope.js';
import { createTokenCache } from './token-cache.js';
import { fetchToken } from './token-request.js';
import type { TokenTransport } from './token-transport.js';
import type { Authenticator, Challenge, Scope } from './types.js';

export interface AuthenticatorOptions {
  /**
   * The user's credential for a registry host (`docker.io`, `ghcr.io`), or
   * undefined for anonymous access. Called at most once per host (the answer
   * is kept); a rejection (a failing credential helper) is passed on, never
   * turned into anonymous access.
   */
  credentials: (host: string) => Promise<Credential | undefined>;
  /** The HTTP client (src/http's createHttpClient) for token requests. */
  http: TokenTransport;
  now?: () => number;
  /** Debug lines (which token for which scopes); never a secret. */
  log?: (line: string) => void;
}

/** The Authenticator, plus the credential lookup it caches (for error messages that depend on it). */
export interface RegistryAuthenticator extends Authenticator {
  /** The credential used for `host`, looked up once and shared. */
  credential(host: string): Promise<Credential | undefined>;
}

type HostScheme = { scheme: 'basic' } | { scheme: 'bearer'; realm: string; service?: string };

/**
 * A token younger than this that still gets a 401 lacks access; fetching
 * again would return the same. Older ones may have been revoked or expired
 * early (clock skew) and are fetched anew.
 */
const FRESH_TOKEN_MS = 2_000;

/**
 * Authorization for registries, learned from their challenges:
 * - nothing is sent until a registry has challenged (the ping does that once);
 * - Basic: the user's username and password;
 * - Bearer: a token from the challenge's realm for the requested scopes
 *   (merged with any scope the challenge names), cached per registry, realm,
 *   service and scope set until shortly before it expires; concurrent
 *   requests for the same scopes share one fetch;
 * - a registry token credential is sent as the bearer as is.
 *
 * `authorize` throws what `fetchToken` throws (AUTH_FAILED, AUTH_REQUIRED,
 * INSECURE_CREDENTIALS, …) and what the credential lookup throws.
 * `challenge` resolves true when a retry can carry (new) authorization.
 */
export function createAuthenticator(options: AuthenticatorOptions): RegistryAuthenticator {
  const now = options.now ?? Date.now;
  const log = options.log;
  const schemes = new Map<string, HostScheme>();
  const extraScopes = new Map<string, Scope[]>();
  const lookups = new Map<string, Promise<Credential | undefined>>();
  const tokens = createTokenCache({ now });

  const credential = (host: string): Promise<Credential | undefined> => {
    let lookup = lookups.get(host);
    if (!lookup) {
      lookup = options.credentials(host);
      lookups.set(host, lookup);
      lookup.catch(() => lookups.delete(host));
    }
    return lookup;
  };

  const wantedScopes = (host: string, scopes: readonly Scope[]): Scope[] =>
    mergeScopes([...scopes, ...(extraScopes.get(`${host}\n${scopeKey(scopes)}`) ?? [])]);

  const tokenKey = (host: string, scheme: { realm: string; service?: string }, scopes: readonly Scope[]): string =>
    [host, scheme.realm, scheme.service ?? '', scopeKey(scopes)].join('\n');

  return {
    credential,

    async authorize(host, scopes, signal) {
      const cred = await credential(host);
      if (cred?.registryToken) return `Bearer ${cred.registryToken}`;
      const scheme = schemes.get(host);
      if (!scheme) return undefined;
      if (scheme.scheme === 'basic') {
        return cred?.username && cred.password ? basicAuthorization(cred.username, cred.password) : undefined;
      }
      const wanted = wantedScopes(host, scopes);
      const issued = await tokens.get(
        tokenKey(host, scheme, wanted),
        async (workSignal) => {
          const token = await fetchToken({
            http: options.http,
            registry: host,
            realm: scheme.realm,
            ...(scheme.service !== undefined ? { service: scheme.service } : {}),
            scopes: wanted,
            ...(cred ? { credential: cred } : {}),
            signal: workSignal,
            now,
          });
          const who = cred?.identityToken || (cred?.username && cred.password) ? 'with credentials' : 'anonymously';
          const what = wanted.length > 0 ? wanted.map(formatScope).join(' ') : '(no scope)';
          log?.(`auth: token for ${host} ${what} ${who} from ${redactUrl(scheme.realm)}, valid ${Math.round(token.lifetimeMs / 1000)}s`);
          return token;
        },
        signal,
      );
      return `Bearer ${issued.token}`;
    },

    async challenge(host, challenges, scopes) {
      const picked = pickChallenge(challenges);
      if (!picked) return false;
      const cred = await credential(host);
      // A registry token is all there is: it was sent, and it was refused.
      if (cred?.registryToken) return false;
      if (picked.scheme === 'basic') {
        schemes.set(host, { scheme: 'basic' });
        return Boolean(cred?.username && cred.password);
      }
      const previous = schemes.get(host);
      const changed = previous?.scheme !== 'bearer' || previous.realm !== picked.realm || previous.service !== picked.service;
      if (changed) {
        schemes.set(host, {
          scheme: 'bearer',
          realm: picked.realm,
          ...(picked.service !== undefined ? { service: picked.service } : {}),
        });
      }
      // A scope named in answer to a real request (insufficient_scope) joins that request's scopes; the
      // scope some registries put in the ping's challenge (GHCR's is a placeholder) means nothing.
      const demanded = picked.scope && scopes.length > 0 ? parseScopes(picked.scope) : [];
      if (demanded.length > 0) {
        const key = `${host}\n${scopeKey(scopes)}`;
        const merged = mergeScopes([...(extraScopes.get(key) ?? []), ...demanded]);
        if (scopeKey(mergeScopes([...scopes, ...merged])) !== scopeKey(scopes)) extraScopes.set(key, merged);
      }
      if (!changed) tokens.invalidate(tokenKey(host, picked, wantedScopes(host, scopes)), FRESH_TOKEN_MS);
      return true;
    },
  };
}

/** Bearer (with a realm) is preferred over Basic, as docker does; other schemes are not supported. */
function pickChallenge(
  challenges: readonly Challenge[],
): { scheme: 'bearer'; realm: string; service?: string; scope?: string } | { scheme: 'basic' } | undefined {
  const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
  if (bearer?.params.realm) {
    return {
      scheme: 'bearer',
      realm: bearer.params.realm,
      ...(bearer.params.service !== undefined ? { service: bearer.params.service } : {}),
      ...(bearer.params.scope !== undefined ? { scope: bearer.params.scope } : {}),
    };
  }
  if (challenges.some((c) => c.scheme === 'basic')) return { scheme: 'basic' };
  return undefined;
}
