import semver from 'semver';
import { GantryError } from '../errors/index.js';
import { compareTagVersions, semverOf, type TagVersion, type TagVersionOptions } from './tag-version.js';

export interface FilterTagsOptions extends TagVersionOptions {
  /** A node-semver range (`>=3.20 <4`, `^1.2`, `~1.2.3`, `1.x`); omitted, every version counts. */
  range?: string;
  /** Let prereleases (`1.0.0-rc.1`) match ranges and count without one. Defaults to false. */
  includePrerelease?: boolean;
  /** Keep only tags with exactly this suffix (`alpine`); implies `includeSuffixed`. */
  suffix?: string;
}

/**
 * The tags that name a version matching the options, in input order (a
 * subset of the input). Without a range, prereleases count only with
 * `includePrerelease`; with one, node-semver's rules apply (a range that
 * names a prerelease of the same major.minor.patch admits it).
 * @throws GantryError SEMVER_RANGE_INVALID for a range node-semver cannot parse.
 */
export function filterTags(tags: readonly string[], options: FilterTagsOptions = {}): string[] {
  return matchingVersions(tags, options).map((v) => v.tag);
}

/**
 * The tag with the highest version among those `filterTags` keeps, or null
 * when none does. Among tags of equal precedence a plain version wins over a
 * suffixed one, then the one spelling out more components (`1.2.0`, which
 * stays put, over `1.2`, which moves on with the next patch), then the tag
 * earliest by code point (`1.2.0` over `v1.2.0`).
 * @throws GantryError SEMVER_RANGE_INVALID for a range node-semver cannot parse.
 */
export function latestTag(tags: readonly string[], options: FilterTagsOptions = {}): string | null {
  let best: TagVersion | undefined;
  for (const candidate of matchingVersions(tags, options)) {
    if (best === undefined || isBetter(candidate, best)) best = candidate;
  }
  return best?.tag ?? null;
}

function isBetter(a: TagVersion, b: TagVersion): boolean {
  const byVersion = semver.compare(a.version, b.version);
  if (byVersion !== 0) return byVersion > 0;
  if ((a.suffix === undefined) !== (b.suffix === undefined)) return a.suffix === undefined;
  const byComponents = components(a.tag) - components(b.tag);
  if (byComponents !== 0) return byComponents > 0;
  return compareTagVersions(a, b) < 0;
}

// How many numeric components a tag spells out: `1` → 1, `v1.2.3-alpine` → 3.
function components(tag: string): number {
  return (/^[vV]?\d+(?:\.\d+)*/.exec(tag)?.[0].split('.').length) ?? 0;
}

function matchingVersions(tags: readonly string[], options: FilterTagsOptions): TagVersion[] {
  const includePrerelease = options.includePrerelease ?? false;
  const range = options.range === undefined ? undefined : checkRange(options.range, includePrerelease);
  const versionOptions: TagVersionOptions = {
    strict: options.strict ?? false,
    includeSuffixed: (options.includeSuffixed ?? false) || options.suffix !== undefined,
  };
  const out: TagVersion[] = [];
  for (const tag of tags) {
    const v = semverOf(tag, versionOptions);
    if (v === null) continue;
    if (options.suffix !== undefined && v.suffix !== options.suffix) continue;
    const ok =
      range === undefined ? includePrerelease || v.version.prerelease.length === 0 : semver.satisfies(v.version, range, { includePrerelease });
    if (ok) out.push(v);
  }
  return out;
}

function checkRange(range: string, includePrerelease: boolean): string {
  if (semver.validRange(range, { includePrerelease }) === null) {
    throw new GantryError('SEMVER_RANGE_INVALID', `invalid semver range "${range.slice(0, 200)}"`, {
      hint: 'Write a node-semver range such as ">=3.20 <4", "^1.2" or "~1.2.3".',
    });
  }
  return range;
}
