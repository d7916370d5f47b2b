import { isInsecureByDefault } from '../reference/index.js';

/**
 * Which registries gantry may talk to without full transport security. Two
 * levels, as docker's `insecure-registries`:
 * - marked by the user (`--insecure`, the config's `insecure-registries`):
 *   TLS certificates are not verified and plain HTTP is allowed;
 * - loopback (`localhost`, 127.0.0.0/8, `::1`), insecure by default as in
 *   docker: plain HTTP is allowed (the ping tries it first when a port is
 *   named, see registry/ping), but TLS, when it is used, is
 *   still verified (the traffic never leaves the machine, a bad certificate
 *   still means a misconfiguration worth reporting).
 */
export interface InsecurePolicy {
  /** The user marked this registry insecure. */
  isMarked(registry: string): boolean;
  /** Plain HTTP, and credentials over it, are allowed for this registry. */
  allowsPlainHttp(registry: string): boolean;
}

/**
 * Build the policy from `true` (every registry is insecure), a list of
 * registries (`host` or `host:port`, optionally with a scheme; a host without
 * a port matches every port) or nothing.
 */
export function createInsecurePolicy(insecure: boolean | readonly string[] | undefined): InsecurePolicy {
  const all = insecure === true;
  const entries = Array.isArray(insecure) ? insecure.map(normalizeEntry).filter((e) => e.length > 0) : [];
  const isMarked = (registry: string): boolean => {
    if (all) return true;
    const name = registry.toLowerCase();
    const host = hostPart(name);
    return entries.some((entry) => entry === name || (hostPart(entry) === entry && entry === host));
  };
  return {
    isMarked,
    allowsPlainHttp: (registry) => isMarked(registry) || isInsecureByDefault(registry),
  };
}

function normalizeEntry(entry: string): string {
  return entry
    .trim()
    .toLowerCase()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
    .replace(/\/+$/, '');
}

/** `host:port` → `host`, `[::1]:5000` → `[::1]`, `host` → `host`. */
function hostPart(registry: string): string {
  if (registry.startsWith('[')) {
    const end = registry.indexOf(']');
    return end === -1 ? registry : registry.slice(0, end + 1);
  }
  const colon = registry.lastIndexOf(':');
  return colon === -1 ? registry : registry.slice(0, colon);
}
