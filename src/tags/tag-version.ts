import semver, { type SemVer } from 'semver';

/** How tags are read as versions. Both flags default to false. */
export interface TagVersionOptions {
  /**
   * Only tags that are valid semver (`1.2.3`, `1.0.0-rc.1`, optionally with a
   * leading `v`) count, with semver's own meaning: `3.22.1-alpine` is then a
   * prerelease. When false, `1`, `1.2` and `v1.2` count as `1.0.0`, `1.2.0`,
   * but a lone number of 6 or more digits (`20240101`, a CI build number)
   * does not count: it is a date or a build, and as version 20240101.0.0 it
   * would outrank every release.
   */
  strict?: boolean;
  /**
   * Count suffixed tags (`3.22-alpine`, `20-bookworm-slim`) as the version
   * they start with, the suffix kept in `TagVersion.suffix`. Ignored when
   * strict.
   */
  includeSuffixed?: boolean;
}

/** A tag read as a version. */
export interface TagVersion {
  tag: string;
  version: SemVer;
  /** The variant after the version (`alpine`, `bookworm-slim`); absent for a plain version. */
  suffix?: string;
}

// Docker's tag grammar (distribution/reference): [\w][\w.-]{0,127}.
const TAG_RE = /^[\w][\w.-]{0,127}$/;
// Up to three numeric components; 15 digits keep each a safe integer for semver.
const LOOSE_RE = /^[vV]?(\d{1,15})(?:\.(\d{1,15}))?(?:\.(\d{1,15}))?(?:-([\w.-]+))?$/;
// A lone number this long is a date (YYYYMMDD, YYMMDD) or a build number, not a major version.
const MIN_BUILD_NUMBER_DIGITS = 6;
// What follows the version is a prerelease when it starts with one of the
// words projects use for them (rc1, rc.1, beta-2, alpha, dev, m3, ea, ...);
// anything else (alpine, bookworm-slim, r0) is a variant suffix. A suffix may
// follow a prerelease: 1.0.0-rc.1-alpine.
const PRERELEASE_RE =
  /^((?:alpha|beta|rc|pre|preview|dev|snapshot|canary|nightly|next|insiders|milestone|ea|a|b|m)(?:[.-]?\d+)*)(?:-([\w.-]+))?$/i;

/**
 * The version a tag names, or null for tags that name none (`latest`,
 * `edge`, `sha-abc`, and when not strict a date or build number such as
 * `20240101`), that are not valid Docker tags, or that are suffixed
 * when suffixed tags are not counted. Never throws.
 */
export function semverOf(tag: string, options: TagVersionOptions = {}): TagVersion | null {
  if (!TAG_RE.test(tag)) return null;
  if (options.strict) {
    const bare = /^[vV]\d/.test(tag) ? tag.slice(1) : tag;
    const version = semver.parse(bare);
    return version === null ? null : { tag, version };
  }
  const m = LOOSE_RE.exec(tag);
  if (m === null) return null;
  const [, major = '0', minor, patch = '0', rest] = m;
  if (minor === undefined && major.length >= MIN_BUILD_NUMBER_DIGITS) return null;
  let prerelease: string | undefined;
  let suffix: string | undefined;
  if (rest !== undefined) {
    const pre = PRERELEASE_RE.exec(rest);
    if (pre) [, prerelease, suffix] = pre;
    else suffix = rest;
  }
  if (suffix !== undefined && !options.includeSuffixed) return null;
  const core = `${Number(major)}.${Number(minor ?? '0')}.${Number(patch)}`;
  const version = semver.parse(prerelease === undefined ? core : `${core}-${prerelease}`);
  if (version === null) return null;
  return suffix === undefined ? { tag, version } : { tag, version, suffix };
}

/** Orders tags by code point: deterministic, independent of the locale. */
export function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Total order on tag versions: by semver precedence, then a plain version
 * before a suffixed one of the same precedence, then by the tag text.
 */
export function compareTagVersions(a: TagVersion, b: TagVersion): number {
  const byVersion = semver.compare(a.version, b.version);
  if (byVersion !== 0) return byVersion;
  if ((a.suffix === undefined) !== (b.suffix === undefined)) return a.suffix === undefined ? -1 : 1;
  return compareCodePoints(a.tag, b.tag);
}
