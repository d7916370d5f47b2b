import type { Reference } from './types.js';

/**
 * Build a frozen Reference from parts that have already been validated. The
 * optional fields are absent, not undefined, when there is no tag or digest,
 * so two equal references compare equal with any deep-equality check.
 */
export function makeReference(parts: { registry: string; repository: string; tag?: string | undefined; digest?: string | undefined }): Reference {
  return Object.freeze({
    registry: parts.registry,
    repository: parts.repository,
    ...(parts.tag === undefined ? {} : { tag: parts.tag }),
    ...(parts.digest === undefined ? {} : { digest: parts.digest }),
  });
}
