import { isGantryError } from '../../errors/index.js';
import { DEFAULT_TAG, familiarReference, parseReference, withTag, withoutTagOrDigest } from '../../reference/index.js';
import type { Reference } from '../../reference/types.js';
import type { SourceImage } from '../types.js';

/** docker's tag grammar; anything else is read as a whole reference. A tag cannot hold `/`, `:` or `@`, a reference with a repository path or tag does. */
const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * The names an image gets in a docker archive (manifest.json `RepoTags`), in
 * docker's familiar form as `docker save` writes them (`alpine:3.20`,
 * `localhost:5000/x:1`), derived from its names at the source:
 *
 * - each of `image.references` (a docker archive's RepoTags), as it is;
 * - a bare tag (`3.20`, `v1`: a registry tag, a layout's `ref.name` as
 *   skopeo writes it) as a tag of `repository`, the repository the source
 *   read the image from (a registry or the local store). Without one the tag
 *   names nothing: docker needs a repository, and guessing one would invent a
 *   name (containerd's import likewise drops a tag-only `ref.name` unless it
 *   is given a base name);
 * - a whole reference (a layout's `ref.name` as containerd and buildkit write
 *   it, `docker.io/library/alpine:3.20`) as it is, `latest` when it has no
 *   tag, as docker reads a name without one; a digest is dropped, and a
 *   reference with a digest but no tag names nothing (RepoTags are tags);
 * - anything that is not a valid reference names nothing.
 *
 * Duplicates are removed and the order kept. An empty result leaves the
 * image untagged. Never throws for a bad name: it is left out.
 */
export function dockerArchiveRepoTags(image: Pick<SourceImage, 'names' | 'references'>, repository?: Reference): string[] {
  const found = [
    ...(image.references ?? []).map(wholeReference),
    ...image.names.map((name) => (TAG.test(name) ? inRepository(repository, name) : wholeReference(name))),
  ];
  return [...new Set(found.filter((ref): ref is Reference => ref !== undefined).map(familiarReference))];
}

function inRepository(repository: Reference | undefined, tag: string): Reference | undefined {
  return repository === undefined ? undefined : withTag(withoutTagOrDigest(repository), tag);
}

function wholeReference(name: string): Reference | undefined {
  let parsed: Reference;
  try {
    parsed = parseReference(name);
  } catch (err) {
    if (isGantryError(err, 'REFERENCE_INVALID')) return undefined;
    throw err;
  }
  if (parsed.tag === undefined && parsed.digest !== undefined) return undefined;
  return withTag(withoutTagOrDigest(parsed), parsed.tag ?? DEFAULT_TAG);
}
