import { isGantryError } from '../../errors/index.js';
import type { Descriptor } from '../../media/types.js';
import { formatReference, parseReference, referenceOrDefaultTag, repositoryOf } from '../../reference/index.js';
import type { Reference } from '../../reference/types.js';
import { entryName } from '../oci-layout/layout-index.js';

/*
 * Names in the local store, as docker names its local images: the
 * normalized reference, as the entry's `org.opencontainers.image.ref.name`
 * (`docker.io/library/alpine:3.20`). A tag names an image; an image pulled
 * by digest alone is named `repository@digest`.
 */

/**
 * The store name for a reference: `repository:tag` when it has a tag (`latest`
 * when it has neither tag nor digest, as docker pulls), else `repository@digest`.
 */
export function storeName(ref: Reference): string {
  const named = referenceOrDefaultTag(ref);
  return named.tag === undefined ? formatReference(named) : `${repositoryOf(named)}:${named.tag}`;
}

/** The reference a store name stands for, or undefined for an entry that is not named like one. */
export function parseStoreName(name: string | undefined): Reference | undefined {
  if (name === undefined) return undefined;
  try {
    return parseReference(name);
  } catch (err) {
    if (isGantryError(err, 'REFERENCE_INVALID')) return undefined;
    throw err;
  }
}

/**
 * The index.json entries a reference names in the store: those named
 * `storeName(ref)` (with a digest in `ref`, only when the content has it);
 * for a digest reference without such a name, any entry of the same
 * repository with that digest (the image was pulled by tag).
 */
export function findStoreEntries(entries: readonly Descriptor[], ref: Reference): Descriptor[] {
  const name = storeName(ref);
  const named = entries.filter((e) => entryName(e) === name && (ref.digest === undefined || e.digest === ref.digest));
  if (named.length > 0 || ref.digest === undefined || ref.tag !== undefined) return named;
  const repository = repositoryOf(ref);
  return entries.filter((e) => {
    const stored = parseStoreName(entryName(e));
    return stored !== undefined && repositoryOf(stored) === repository && e.digest === ref.digest;
  });
}
