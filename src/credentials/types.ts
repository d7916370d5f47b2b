/**
 * What a registry login yields. Docker's shapes: a username and password, or
 * an identity token (OAuth2 refresh token, with username `<token>` in docker's
 * helpers), or a registry token sent as a bearer directly.
 */
export interface Credential {
  username?: string;
  password?: string;
  /** OAuth2 refresh token ("identitytoken" in config.json). */
  identityToken?: string;
  /** Pre-issued bearer token ("registrytoken" in config.json). */
  registryToken?: string;
}

/** Where a credential came from, for messages ("from docker-credential-pass"). */
export interface CredentialSource {
  credential: Credential;
  /** Human description of the store: `config.json`, `docker-credential-pass`, `keychain`. */
  from: string;
}

/**
 * A place credentials live. `host` is a normalized registry host (`docker.io`,
 * `ghcr.io`, `localhost:5000`); stores map it to their own keys. `get` resolves
 * undefined when the store has nothing for the host, and rejects with a
 * GantryError (CREDENTIAL_HELPER_FAILED, CREDENTIAL_STORE_FAILED,
 * KEYCHAIN_UNAVAILABLE) when the store itself fails: failures are never
 * silently turned into anonymous access.
 */
export interface CredentialStore {
  readonly name: string;
  get(host: string): Promise<CredentialSource | undefined>;
  store?(host: string, credential: Credential): Promise<void>;
  erase?(host: string): Promise<boolean>;
}
