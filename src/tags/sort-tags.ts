import { compareCodePoints, compareTagVersions, semverOf, type TagVersion, type TagVersionOptions } from './tag-version.js';

export type TagSortOrder = 'semver' | 'alpha';

/**
 * Returns the tags sorted, ascending, without touching the input.
 * `'alpha'` orders by code point. `'semver'` puts versioned tags (read with
 * `options`, see `semverOf`) first in semver order (a plain version before
 * its suffixed variants, then by tag text) and the others after them by code
 * point. Equal tags keep their relative order, so the result is a
 * deterministic permutation of the input.
 */
export function sortTags(tags: readonly string[], order: TagSortOrder = 'semver', options: TagVersionOptions = {}): string[] {
  if (order === 'alpha') return [...tags].sort(compareCodePoints);
  const versioned: TagVersion[] = [];
  const others: string[] = [];
  for (const tag of tags) {
    const version = semverOf(tag, options);
    if (version === null) others.push(tag);
    else versioned.push(version);
  }
  versioned.sort(compareTagVersions);
  others.sort(compareCodePoints);
  return [...versioned.map((v) => v.tag), ...others];
}
