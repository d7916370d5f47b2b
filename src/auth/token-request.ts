import type { Credential } from '../credentials/types.js';
import { GantryError } from '../errors/index.js';
import { parseJson } from '../internal/parse-json.js';
import { redactUrl } from '../internal/redact.js';
import { basicAuthorization } from './basic.js';
import { formatScope } from './scope.js';
import type { IssuedToken } from './token-cache.js';
import { readTokenError } from './token-error.js';
import type { TokenResponse, TokenTransport } from './token-transport.js';
import type { Scope } from './types.js';

/** OAuth2 client id gantry announces to token services (oauth.md: any string naming the client). */
export const CLIENT_ID = 'gantry';

/** The token spec's default and floor: a token lives at least 60 s (token.md, "Token Response Fields"). */
const MIN_LIFETIME_S = 60;

/** Token responses are a few KiB of JSON; anything past this is not one. */
const TOKEN_BODY_LIMIT = 1024 * 1024;

export interface TokenRequestOptions {
  http: TokenTransport;
  /** The registry the token is for: its TLS settings and plain-HTTP policy apply to the realm too. */
  registry: string;
  /** The challenge's `realm`: the token endpoint URL (its query string is kept). */
  realm: string;
  /** The challenge's `service`. */
  service?: string;
  scopes: readonly Scope[];
  /** Username/password (GET with Basic) or identity token (OAuth2 refresh POST); none for anonymous. */
  credential?: Credential;
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * Fetch a bearer token (distribution docs/spec/auth/token.md and oauth.md).
 *
 * - identity token: POST `grant_type=refresh_token` to the realm; a realm
 *   that answers 404 or 405 has no OAuth2 endpoint (oauth.md says to use GET
 *   then), so GET with the identity token as the Basic password follows;
 * - username/password: GET with Basic and `account=<username>`, as docker;
 * - nothing: GET anonymously.
 *
 * The realm must be HTTPS unless the registry may use plain HTTP: the token
 * is a credential even when obtained anonymously.
 *
 * @throws GantryError INSECURE_CREDENTIALS for a plain-HTTP realm of a secure
 *   registry; AUTH_FAILED when the token service rejects the credential
 *   (401/403, or OAuth2's invalid_grant); AUTH_REQUIRED when it rejects an anonymous request;
 *   REGISTRY_ERROR for an unusable answer; RegistryError for other statuses,
 *   marked `details.retried` when the transport already retried it to the
 *   end of its policy (see readTokenError); NETWORK/TLS/TIMEOUT from the
 *   transport.
 */
export async function fetchToken(options: TokenRequestOptions): Promise<IssuedToken> {
  const realm = checkRealm(options);
  const credential = options.credential;
  let response: TokenResponse | undefined;
  let method = 'GET';
  if (credential?.identityToken) {
    method = 'POST';
    response = await postRefreshToken(options, realm, credential.identityToken);
    if (response.status === 404 || response.status === 405) {
      await response.discard();
      response = undefined;
      method = 'GET';
    }
  }
  response ??= await getToken(options, realm, credential);
  if (response.status === 200) return readToken(response, options);
  const cause = await readTokenError(response, method, options.now ? { now: options.now } : {});
  // OAuth2 answers a refresh token it does not accept with 400 invalid_grant (RFC 6749 §5.2).
  if (response.status === 401 || response.status === 403 || (method === 'POST' && cause.hasCode('INVALID_GRANT'))) {
    throw rejected(options, credential, cause);
  }
  throw cause;
}

function checkRealm(options: TokenRequestOptions): URL {
  let realm: URL;
  try {
    realm = new URL(options.realm);
  } catch (err) {
    throw new GantryError('REGISTRY_ERROR', `${options.registry}: the token realm ${JSON.stringify(redactUrl(options.realm))} is not a URL`, {
      cause: err,
    });
  }
  if (realm.protocol === 'https:') return realm;
  if (realm.protocol === 'http:' && options.http.policy.allowsPlainHttp(options.registry)) return realm;
  throw new GantryError('INSECURE_CREDENTIALS', `${options.registry}: refusing to fetch a token from ${redactUrl(realm)}: the realm is not HTTPS`, {
    hint: `A bearer token is a credential; mark ${options.registry} --insecure only if it is a registry you trust on this network.`,
    details: { realm: redactUrl(realm) },
  });
}

function getToken(options: TokenRequestOptions, realm: URL, credential: Credential | undefined): Promise<TokenResponse> {
  const url = new URL(realm);
  if (options.service) url.searchParams.append('service', options.service);
  for (const scope of options.scopes) url.searchParams.append('scope', formatScope(scope));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (credential?.identityToken) {
    headers.authorization = basicAuthorization(credential.username || '<token>', credential.identityToken);
  } else if (credential?.username && credential.password) {
    url.searchParams.append('account', credential.username);
    headers.authorization = basicAuthorization(credential.username, credential.password);
  }
  return options.http.request({
    method: 'GET',
    url,
    headers,
    registry: options.registry,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

function postRefreshToken(options: TokenRequestOptions, realm: URL, refreshToken: string): Promise<TokenResponse> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID });
  if (options.service) form.set('service', options.service);
  // oauth.md: the scopes of one request go space-separated in a single `scope` field.
  if (options.scopes.length > 0) form.set('scope', options.scopes.map(formatScope).join(' '));
  return options.http.request({
    method: 'POST',
    url: realm,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form.toString(),
    // Exchanging a refresh token changes nothing on the server: safe to repeat.
    idempotent: true,
    registry: options.registry,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

async function readToken(response: TokenResponse, options: TokenRequestOptions): Promise<IssuedToken> {
  const now = (options.now ?? Date.now)();
  const { bytes, truncated } = await response.read(TOKEN_BODY_LIMIT);
  const body = truncated ? undefined : parseJson(bytes).value;
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const token = pickToken(fields.token) ?? pickToken(fields.access_token);
  if (token === undefined) {
    throw new GantryError('REGISTRY_ERROR', `${options.registry}: the token service at ${redactUrl(response.url)} answered without a usable token`, {
      hint: 'The registry or its token service is misconfigured, or a proxy answered in its place.',
    });
  }
  const lifetimeS = Math.max(MIN_LIFETIME_S, toSeconds(fields.expires_in) ?? MIN_LIFETIME_S);
  const lifetimeMs = lifetimeS * 1000;
  return { token, lifetimeMs, expiresAt: issuedAt(fields.issued_at, now, lifetimeMs) + lifetimeMs };
}

/** A token must fit in a header: printable ASCII, no spaces (token68-like, as registries issue JWTs). */
function pickToken(value: unknown): string | undefined {
  return typeof value === 'string' && /^[\x21-\x7e]+$/.test(value) ? value : undefined;
}

function toSeconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * When the token was issued, by the local clock. `issued_at` is the server's
 * clock: trusted when it is in the past but within the token's life; a value
 * in the future or so old the token would be dead on arrival means the clocks
 * disagree (the server just minted it), so the local time is used instead.
 */
function issuedAt(value: unknown, now: number, lifetimeMs: number): number {
  if (typeof value !== 'string') return now;
  const at = Date.parse(value);
  if (Number.isNaN(at) || at > now || now - at >= lifetimeMs) return now;
  return at;
}

function rejected(options: TokenRequestOptions, credential: Credential | undefined, cause: unknown): GantryError {
  const details = { registry: options.registry, realm: redactUrl(options.realm) };
  if (credential?.identityToken || (credential?.username && credential.password)) {
    return new GantryError('AUTH_FAILED', `${options.registry}: the token service rejected the credentials (invalid username, password or token)`, {
      hint: `Log in again: \`gantry login ${options.registry}\`.`,
      cause,
      details,
    });
  }
  return new GantryError('AUTH_REQUIRED', `${options.registry}: the token service requires authentication`, {
    hint: `Log in first: \`gantry login ${options.registry}\`.`,
    cause,
    details,
  });
}
