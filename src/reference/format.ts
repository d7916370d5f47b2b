import { DOCKER_HUB, OFFICIAL_NAMESPACE } from './constants.js';
import type { Reference } from './types.js';

/** The canonical string: `docker.io/library/alpine:3.20@sha256:…`. `parseReference` gives the same Reference back. */
export function formatReference(ref: Reference): string {
  return repositoryOf(ref) + suffix(ref);
}

/**
 * Docker's familiar string (FamiliarString): Docker Hub loses its host and
 * official images their `library/`: `alpine:3.20`, `user/app`, `ghcr.io/o/a:1`.
 * `parseReference` gives the same Reference back: unlike docker, a Docker Hub
 * path whose first component would read as a host (`docker.io/a.b/c`) keeps
 * its `docker.io/`.
 */
export function familiarReference(ref: Reference): string {
  return familiarName(ref) + suffix(ref);
}

/** The full repository name without tag or digest: `docker.io/library/alpine`. */
export function repositoryOf(ref: Reference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The familiar repository name without tag or digest (see `familiarReference`): `alpine`, `user/app`, `ghcr.io/o/a`. */
export function familiarName(ref: Reference): string {
  if (ref.registry !== DOCKER_HUB) return repositoryOf(ref);
  const official = ref.repository.startsWith(OFFICIAL_NAMESPACE) ? ref.repository.slice(OFFICIAL_NAMESPACE.length) : undefined;
  // Only a single component drops `library/`: `library/a/b` must keep it to parse back the same.
  if (official !== undefined && !official.includes('/')) return official;
  const first = ref.repository.slice(0, ref.repository.indexOf('/'));
  return first === 'localhost' || /[.:]/.test(first) ? repositoryOf(ref) : ref.repository;
}

function suffix(ref: Reference): string {
  return (ref.tag === undefined ? '' : `:${ref.tag}`) + (ref.digest === undefined ? '' : `@${ref.digest}`);
}
