import { GantryError } from '../errors/index.js';
import type { Platform } from './types.js';

/*
 * Platform specifiers, normalization and matching. The normalizations and
 * the compatibility ladders follow containerd's platforms package
 * (database.go, compare.go), with one deliberate difference: the canonical
 * form of arm64 carries variant v8 (containerd drops it), because that is
 * how Docker Hub's official images list it and how users write it.
 */

const SEGMENT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Parses `os/arch` or `os/arch/variant` (`linux/arm64/v8`) and returns the
 * normalized platform (see `normalizePlatform`): `linux/aarch64` gives
 * `{ os: 'linux', architecture: 'arm64', variant: 'v8' }`.
 * @throws GantryError PLATFORM_INVALID for any other shape.
 */
export function parsePlatform(specifier: string): Platform {
  const parts = specifier.split('/');
  if ((parts.length !== 2 && parts.length !== 3) || !parts.every((p) => SEGMENT_RE.test(p))) {
    throw new GantryError('PLATFORM_INVALID', `invalid platform "${specifier.slice(0, 100)}": expected os/arch or os/arch/variant`, {
      hint: 'Write a platform like linux/amd64 or linux/arm64/v8.',
    });
  }
  const [os = '', architecture = '', variant] = parts;
  return normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant });
}

/**
 * Returns the canonical form of a platform, leaving `p` untouched: os and
 * architecture lowercased, `macos` → `darwin`, `x86_64`/`x86-64` → `amd64`
 * (with `v1` dropped: it is the baseline), `i386` → `386`, `aarch64` →
 * `arm64`, arm64 without variant (or `8`) → `v8`, `armhf` → `arm/v7`,
 * `armel` → `arm/v6`, arm without variant → `v7`, bare variant numbers
 * prefixed with `v`. Other fields are kept as they are.
 */
export function normalizePlatform(p: Platform): Platform {
  let os = p.os.toLowerCase();
  if (os === 'macos') os = 'darwin';
  const [architecture, variant] = normalizeArch(p.architecture.toLowerCase(), (p.variant ?? '').toLowerCase());
  const { variant: _dropped, ...rest } = p;
  return variant === '' ? { ...rest, os, architecture } : { ...rest, os, architecture, variant };
}

function normalizeArch(arch: string, variant: string): [string, string] {
  switch (arch) {
    case 'i386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', variant === 'v1' ? '' : variant];
    case 'aarch64':
    case 'arm64':
      return ['arm64', variant === '' || variant === '8' ? 'v8' : variant];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (variant === '') return ['arm', 'v7'];
      return ['arm', /^\d+$/.test(variant) ? `v${variant}` : variant];
    default:
      return [arch, variant];
  }
}

/** `os/arch` or `os/arch/variant`, as given (normalize first for the canonical spelling). */
export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** True when two platforms are the same once normalized (os.version included when either has one). */
export function platformEquals(a: Platform, b: Platform): boolean {
  return compatibilityRank(a, b) === 0 && compatibilityRank(b, a) === 0;
}

/**
 * True when an image built for `have` runs where `want` is asked for:
 * the same platform once normalized, or an older variant of the same
 * architecture (arm/v7 accepts arm/v6 and arm/v5; arm64/v8.2 accepts v8.1
 * and v8; amd64/v3 accepts v2 and the baseline), or an image that names no
 * variant at all. When `want` names an `os.version`, `have` must name the
 * same one.
 */
export function platformMatches(want: Platform, have: Platform): boolean {
  return compatibilityRank(want, have) !== undefined;
}

/**
 * How well `have` serves `want`: 0 for an exact match, larger for ever more
 * distant compatible variants, undefined when it does not match at all.
 * Both sides are normalized first.
 */
export function compatibilityRank(want: Platform, have: Platform): number | undefined {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return undefined;
  if (w['os.version'] !== undefined && w['os.version'] !== h['os.version']) return undefined;
  const rank = variantLadder(w.architecture, w.variant).indexOf(h.variant);
  return rank === -1 ? undefined : rank;
}

// The variants an architecture's variant can run, best first, ending with
// "no variant named". Mirrors containerd's platformVector, minus its
// cross-architecture fallbacks (amd64 → 386, arm64 → arm): selecting a
// different architecture than the one asked for would surprise a copy.
function variantLadder(arch: string, variant: string | undefined): Array<string | undefined> {
  const ladder: Array<string | undefined> = [variant];
  const level = /^v(\d+)(?:\.(\d+))?$/.exec(variant ?? '');
  const major = level ? Number(level[1]) : undefined;
  const minor = level?.[2] === undefined ? 0 : Number(level[2]);
  if (arch === 'amd64' && major !== undefined) {
    for (let v = major - 1; v >= 2; v--) ladder.push(`v${v}`);
  } else if (arch === 'arm' && major !== undefined) {
    for (let v = major - 1; v >= 5; v--) ladder.push(`v${v}`);
  } else if (arch === 'arm64' && major !== undefined && major >= 8 && major <= 9) {
    ladder.length = 0;
    // Armv9.x is a superset of Armv8.(x+5) (containerd compare.go).
    if (major === 9) {
      for (let m = minor; m >= 0; m--) ladder.push(m === 0 ? 'v9' : `v9.${m}`);
    }
    for (let m = major === 9 ? minor + 5 : minor; m >= 0; m--) ladder.push(m === 0 ? 'v8' : `v8.${m}`);
  }
  if (!ladder.includes(undefined)) ladder.push(undefined);
  return ladder;
}
