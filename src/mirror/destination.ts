import { GantryError } from '../errors/index.js';
import { parseRepository, repositoryOf } from '../reference/index.js';
import type { Reference } from '../reference/types.js';

/** Where a source goes when the file names a registry rather than a repository. */
export interface RegistryDestination {
  /** A normalized registry host (see `parseRegistryHost`). */
  registry: string;
  /** Path components put before the repository: `mirror` → `host/mirror/library/alpine`. */
  prefix?: string;
  /** The repository path to use instead of the source's (`library/alpine`); the prefix still applies. */
  rename?: string;
}

/**
 * The destination repository for `source` under a registry destination:
 * `registry/prefix/(rename ?? source path)`. The source path is its full
 * normalized path, so Docker Hub's `alpine` lands at `library/alpine`, as
 * regsync and crane do; use `rename` for another name.
 *
 * @throws GantryError REFERENCE_INVALID when the joined name is not a valid
 *   repository, or when the registry would not read as a host in it (a name
 *   without a dot or port such as `mirror` reads as a Docker Hub namespace).
 */
export function destinationRepository(source: Reference, destination: RegistryDestination): Reference {
  const prefix = trimSlashes(destination.prefix ?? '');
  const path = trimSlashes(destination.rename ?? source.repository);
  const name = [destination.registry, prefix, path].filter((p) => p !== '').join('/');
  const ref = parseRepository(name);
  if (ref.registry !== destination.registry) {
    throw new GantryError('REFERENCE_INVALID', `"${destination.registry}" does not read as a registry host in ${repositoryOf(ref)}`, {
      hint: 'A registry host needs a dot or a port, or must be localhost: registry.example.com, localhost:5000.',
    });
  }
  return ref;
}

function trimSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, '');
}
