/**
 * How docker names a registry in its credential stores. config.json keys come
 * in many historical forms (`https://index.docker.io/v1/`, `ghcr.io`,
 * `https://ghcr.io`, `http://localhost:5000/v2/`); docker compares them by
 * host only, after stripping the scheme and any path.
 */

/** Docker Hub's key in config.json and the server URL docker hands to credential helpers for it. */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

/** Every name Docker Hub goes by; they all share the one credential. */
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * The normalized host named by a registry address in any of docker's forms:
 * scheme, userinfo and path stripped, lowercased, Docker Hub's aliases folded
 * into `docker.io`. Throws a plain Error for an empty address (a programmer error).
 */
export function registryHost(address: string): string {
  const host = hostOf(address);
  if (host === '') throw new Error(`not a registry address: ${JSON.stringify(address)}`);
  return host;
}

/** `registryHost` that yields '' for an address naming no host (a malformed config key). */
function hostOf(address: string): string {
  let rest = address.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  const slash = rest.indexOf('/');
  if (slash >= 0) rest = rest.slice(0, slash);
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = rest.slice(at + 1);
  const host = rest.toLowerCase();
  return DOCKER_HUB_HOSTS.has(host) ? 'docker.io' : host;
}

/**
 * The address docker uses for a host when it writes config.json or talks to a
 * credential helper: `https://index.docker.io/v1/` for Docker Hub, else the bare host.
 */
export function serverAddress(host: string): string {
  const normalized = registryHost(host);
  return normalized === 'docker.io' ? DOCKER_HUB_SERVER : normalized;
}

/** True when a config.json key names the given host. A key naming no host matches nothing. */
export function keyMatchesHost(key: string, host: string): boolean {
  const keyHost = hostOf(key);
  return keyHost !== '' && keyHost === registryHost(host);
}

/**
 * The key of `keys` to use for `host`: docker's own key for it when present
 * (exact match wins, as in docker), else the first key in file order that
 * names the same host. Undefined when none does.
 */
export function findKey(keys: Iterable<string>, host: string): string | undefined {
  const exact = serverAddress(host);
  let fallback: string | undefined;
  for (const key of keys) {
    if (key === exact) return key;
    if (fallback === undefined && keyMatchesHost(key, host)) fallback = key;
  }
  return fallback;
}
