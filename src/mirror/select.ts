import { filterTags, sortTags } from '../tags/index.js';
import type { TagSelection } from './types.js';

/** The outcome of `selectTags`. */
export interface SelectedTags {
  /** The tags to mirror, in semver order (versions ascending, then other tags by code point). */
  tags: string[];
  /** Explicit tags the source does not have, sorted the same way: worth a warning, not a failure. */
  missing: string[];
}

/**
 * The tags of a source to mirror, from `available` (the source's tag list).
 *
 * - Explicit `tags` are always selected when available; filters and
 *   `latest` do not touch them.
 * - The filtered part is the tags that satisfy the semver range (when
 *   given), match every `include` regex and no `exclude` regex. It applies
 *   when any of `semver`, `include`, `exclude`, `latest` is given, or when
 *   there are no explicit tags (then everything is selected, like skopeo
 *   sync with an empty tag list). With only explicit tags, nothing else is.
 * - A range admits only tags that read as versions (`1.2`, `v1.2.3`); other
 *   tags (`latest`, `edge`) are reachable by regex or by name. With
 *   `includePrerelease`, prereleases (`1.0.0-rc.1`) and suffixed versions
 *   (`3.22-alpine`, read as 3.22.0) count too, so `>=3.22` selects `3.22-alpine`.
 * - `latest: N` then keeps the newest N of the filtered tags by semver
 *   (ties broken as `sortTags` does); tags that read as no version, and
 *   prereleases and suffixed tags without `includePrerelease`, are dropped.
 *
 * Pure and deterministic: the result depends on the set of `available`
 * tags, not their order, and `tags` is a subset of `available`.
 * @throws GantryError SEMVER_RANGE_INVALID for a range node-semver cannot parse.
 */
export function selectTags(available: readonly string[], selection: TagSelection): SelectedTags {
  const have = [...new Set(available)];
  const haveSet = new Set(have);
  const explicit = new Set(selection.tags);
  const versionOptions = { includePrerelease: selection.includePrerelease, includeSuffixed: selection.includePrerelease };
  const filtering =
    selection.semver !== undefined ||
    selection.include.length > 0 ||
    selection.exclude.length > 0 ||
    selection.latest !== undefined ||
    explicit.size === 0;

  let filtered: string[] = [];
  if (filtering) {
    filtered = selection.semver === undefined ? have : filterTags(have, { ...versionOptions, range: selection.semver });
    filtered = filtered.filter(
      // `search` ignores a regex's lastIndex, so a caller's /g regex gives the same answer every time.
      (tag) => selection.include.every((r) => tag.search(r) >= 0) && !selection.exclude.some((r) => tag.search(r) >= 0),
    );
    if (selection.latest !== undefined) {
      const ranked = sortTags(filterTags(filtered, versionOptions), 'semver', { includeSuffixed: selection.includePrerelease });
      filtered = ranked.slice(Math.max(0, ranked.length - selection.latest));
    }
  }
  const chosen = new Set([...[...explicit].filter((t) => haveSet.has(t)), ...filtered]);
  return {
    tags: sortTags([...chosen], 'semver', { includeSuffixed: true }),
    missing: sortTags([...explicit].filter((t) => !haveSet.has(t)), 'semver', { includeSuffixed: true }),
  };
}
