export { createAuthenticator, type AuthenticatorOptions, type RegistryAuthenticator } from './authenticator.js';
export { basicAuthorization } from './basic.js';
export { parseWwwAuthenticate } from './challenge.js';
export { formatScope, mergeScopes, normalizeActions, parseScope, parseScopes, repositoryScope, scopeKey } from './scope.js';
export { createTokenCache, type IssuedToken, type TokenCache } from './token-cache.js';
export { CLIENT_ID, fetchToken, type TokenRequestOptions } from './token-request.js';
export { readTokenError, type ReadTokenErrorOptions } from './token-error.js';
export type { TokenResponse, TokenTransport } from './token-transport.js';
export type { Authenticator, Challenge, Scope } from './types.js';
