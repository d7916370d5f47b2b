import { parseDigest } from '../digest/index.js';
import { DEFAULT_TAG } from './constants.js';
import { makeReference } from './make-reference.js';
import { referenceError } from './syntax-problem.js';
import { findTagProblem } from './tag.js';
import type { Reference } from './types.js';

/**
 * The same reference with `tag` set (replacing any tag; a digest is kept).
 *
 * @throws GantryError `REFERENCE_INVALID` when `tag` does not fit `[\w][\w.-]{0,127}`.
 */
export function withTag(ref: Reference, tag: string): Reference {
  const problem = findTagProblem(tag, 0);
  if (problem) throw referenceError(tag, problem);
  return makeReference({ ...ref, tag });
}

/**
 * The same reference with `digest` set (replacing any digest; a tag is kept).
 *
 * @throws GantryError `DIGEST_INVALID` when `digest` is not a valid OCI digest.
 */
export function withDigest(ref: Reference, digest: string): Reference {
  return makeReference({ ...ref, digest: parseDigest(digest).value });
}

/** The repository alone: the same registry and repository, no tag, no digest. */
export function withoutTagOrDigest(ref: Reference): Reference {
  return makeReference({ registry: ref.registry, repository: ref.repository });
}

/** The reference to pull: tag `latest` when it has neither tag nor digest, as docker does; otherwise unchanged. */
export function referenceOrDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? makeReference({ ...ref, tag: DEFAULT_TAG }) : ref;
}
