import semver, { type SemVer } from 'semver';
import { semverOf } from './tag-version.js';

/** Which alias of a version: `1.2` (its minor line), `1` (its major line) or `latest` (every version). */
export type AliasLine = 'minor' | 'major' | 'latest';

/** What to do with one alias of a newly tagged version. */
export interface AliasDecision {
  /** The alias tag: `1.2`, `v1`, `latest`. */
  alias: string;
  line: AliasLine;
  /** Whether to point the alias at the new version's digest. */
  write: boolean;
  /**
   * Why: `highest` (the version is the highest of the alias's line, and the
   * alias names something else or nothing: write); `current` (it is the
   * highest and the alias already names its digest: nothing to write);
   * `newer` (a higher release is in the line: leave the alias); `prerelease`
   * (prereleases never move aliases).
   */
  reason: 'highest' | 'current' | 'newer' | 'prerelease';
  /** The digest the alias names now, when the caller knew it. */
  from?: string;
  /** With `newer`: the highest release tag of the line (`1.3.0`, `v1.2.5`). */
  newer?: string;
}

export interface SemverAliasInput {
  /** The tag of the version being written: `1.2.3`, `v1.2.3`, `1.3.0-rc.1`. */
  version: string;
  /** The digest that tag now names. */
  digest: string;
  /** Every existing tag of the repository (the new version's tag may or may not be among them). */
  tags: readonly string[];
  /**
   * The digests the existing aliases name, for those the caller looked up
   * (see `aliasTagsOf`); an alias in `tags` but not here counts as naming
   * something else.
   */
  current?: ReadonlyMap<string, string>;
}

/**
 * The aliases `1.2.3` (or `v1.2.3`) has: `1.2`, `1`, `latest` (`v1.2`, `v1`,
 * `latest`), in that order; null when the tag is not a `[v]MAJOR.MINOR.PATCH`
 * version (prerelease allowed).
 */
export function aliasTagsOf(version: string): string[] | null {
  const parsed = parseVersionTag(version);
  if (parsed === null) return null;
  const { prefix, version: v } = parsed;
  return [`${prefix}${v.major}.${v.minor}`, `${prefix}${v.major}`, 'latest'];
}

/**
 * Which of a new version's aliases to write, as `--semver-aliases` does:
 * each moves only when the version is the highest release in the alias's
 * line among the repository's tags (a tie counts as highest), so tagging a
 * backport `1.1.9` beside `1.2.0` writes `1.1` but never `1` or `latest`.
 * Releases are read from tags that spell out a whole version (`1.2.3`,
 * `v1.2.3`, either prefix); `1.2`-style aliases, dates and prereleases do
 * not count. A prerelease moves no alias. Pure; never throws.
 *
 * @returns the three decisions (minor, major, latest), or null when
 *   `input.version` is not a `[v]MAJOR.MINOR.PATCH` version.
 */
export function semverAliases(input: SemverAliasInput): AliasDecision[] | null {
  const parsed = parseVersionTag(input.version);
  const names = aliasTagsOf(input.version);
  if (parsed === null || names === null) return null;
  const v = parsed.version;
  const releases = input.tags.flatMap((tag) => {
    const r = parseVersionTag(tag);
    return r === null || r.version.prerelease.length > 0 ? [] : [{ tag, version: r.version }];
  });
  const inLine: Record<AliasLine, (r: SemVer) => boolean> = {
    minor: (r) => r.major === v.major && r.minor === v.minor,
    major: (r) => r.major === v.major,
    latest: () => true,
  };
  const lines: AliasLine[] = ['minor', 'major', 'latest'];
  return lines.map((line, i) => {
    const alias = names[i] as string;
    const from = input.current?.get(alias);
    const known = from === undefined ? {} : { from };
    if (v.prerelease.length > 0) return { alias, line, write: false, reason: 'prerelease', ...known };
    const newer = highest(releases.filter((r) => inLine[line](r.version) && semver.gt(r.version, v)));
    if (newer !== undefined) return { alias, line, write: false, reason: 'newer', newer, ...known };
    if (from === input.digest) return { alias, line, write: false, reason: 'current', ...known };
    return { alias, line, write: true, reason: 'highest', ...known };
  });
}

function highest(releases: Array<{ tag: string; version: SemVer }>): string | undefined {
  let best: { tag: string; version: SemVer } | undefined;
  for (const r of releases) {
    const order = best === undefined ? 1 : semver.compare(r.version, best.version);
    // Equal versions (`1.3.0` and `v1.3.0`): the earliest by code point, so the answer does not depend on list order.
    if (order > 0 || (order === 0 && best !== undefined && r.tag < best.tag)) best = r;
  }
  return best?.tag;
}

/** A tag that spells out a whole version: `[v|V]MAJOR.MINOR.PATCH[-PRERELEASE]`. */
function parseVersionTag(tag: string): { prefix: string; version: SemVer } | null {
  const read = semverOf(tag, { strict: true });
  if (read === null) return null;
  return { prefix: /^[vV]/.test(tag) ? (tag[0] as string) : '', version: read.version };
}
