/** One challenge of a WWW-Authenticate header (RFC 7235). Param names are lowercased. */
export interface Challenge {
  /** Lowercased scheme: `bearer`, `basic`, … */
  scheme: string;
  params: Record<string, string>;
  /** The token68 form (`Negotiate abc==`), rare for registries but legal. */
  token68?: string;
}

/** A token scope (distribution token spec): `repository:library/alpine:pull,push`. */
export interface Scope {
  type: string;
  name: string;
  actions: string[];
}

/**
 * Produces Authorization headers for a registry host. The HTTP layer calls
 * `authorize` before a request and `challenge` after a 401 with the parsed
 * challenges; when `challenge` resolves true a retry may succeed.
 */
export interface Authenticator {
  authorize(host: string, scopes: readonly Scope[], signal?: AbortSignal): Promise<string | undefined>;
  challenge(host: string, challenges: readonly Challenge[], scopes: readonly Scope[], signal?: AbortSignal): Promise<boolean>;
}
