import { DOCKER_HUB, DOCKER_HUB_ENDPOINT, DOCKER_HUB_LEGACY } from './constants.js';
import { findHostProblem } from './domain.js';
import { isIPv4Loopback, isIPv6Loopback } from './ip-address.js';
import { referenceError } from './syntax-problem.js';

const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, DOCKER_HUB_LEGACY, DOCKER_HUB_ENDPOINT]);
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/**
 * Parse the registry argument of `login` or `catalog`: a host with optional
 * port (`ghcr.io`, `localhost:5000`, `[::1]:5000`), or a URL whose `http://`
 * or `https://` scheme and path are dropped, as docker login does
 * (`https://index.docker.io/v1/` is Docker Hub). Docker Hub's names
 * (`docker.io`, `index.docker.io`, `registry-1.docker.io`, any case) all
 * become `docker.io`; other hosts keep their spelling.
 *
 * @throws GantryError `REFERENCE_INVALID` with `details: { input, position }`
 *   for another scheme, an empty or malformed host or port, or credentials in
 *   the address (which are redacted from the error).
 */
export function parseRegistryHost(input: string): string {
  if (typeof input !== 'string') throw new TypeError(`a registry host must be a string, got ${typeof input}`);
  const scheme = SCHEME.exec(input);
  const start = scheme ? scheme[0].length : 0;
  if (scheme && !/^https?$/i.test(scheme[1] ?? '')) {
    throw referenceError(input, {
      message: `unsupported scheme ${JSON.stringify(scheme[1])} in registry address`,
      position: 0,
      hint: 'Give the registry as HOST[:PORT], e.g. ghcr.io or localhost:5000.',
    });
  }
  const slash = input.indexOf('/', start);
  const host = input.slice(start, slash < 0 ? input.length : slash);
  const at = host.indexOf('@');
  if (at >= 0) {
    throw referenceError(input, { message: 'a registry address must not contain credentials', position: start }, {
      userinfo: { start, end: start + at },
    });
  }
  const problem = findHostProblem(host, start);
  if (problem) {
    throw referenceError(input, { ...problem, hint: problem.hint ?? 'Give the registry as HOST[:PORT], e.g. ghcr.io or localhost:5000.' });
  }
  return DOCKER_HUB_ALIASES.has(host.toLowerCase()) ? DOCKER_HUB : host;
}

/**
 * Whether docker talks plain HTTP to this registry without being told: its
 * default insecure ranges are loopback, so `localhost`, 127.0.0.0/8 and ::1,
 * with any port (docker resolves names; gantry does not, so other names that
 * resolve to loopback are not included). Accepts `host`, `host:port`,
 * `[v6]`, `[v6]:port` and a bare IPv6 address; never throws.
 */
export function isInsecureByDefault(host: string): boolean {
  const name = hostWithoutPort(host);
  if (name.toLowerCase() === 'localhost') return true;
  return isIPv4Loopback(name) || isIPv6Loopback(name);
}

/** The host to send registry API requests to: Docker Hub's API lives on `registry-1.docker.io`; every other host is itself. */
export function registryEndpoint(host: string): string {
  return host === DOCKER_HUB ? DOCKER_HUB_ENDPOINT : host;
}

function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return close < 0 ? host : host.slice(1, close);
  }
  const colon = host.indexOf(':');
  // Two or more colons without brackets: a bare IPv6 address, which has no port.
  if (colon < 0 || host.indexOf(':', colon + 1) >= 0) return host;
  return host.slice(0, colon);
}
