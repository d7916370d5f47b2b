import { describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import {
  compatibilityRank,
  formatPlatform,
  normalizePlatform,
  parsePlatform,
  platformEquals,
  platformMatches,
} from '../../../src/media/platform.js';
import type { Platform } from '../../../src/media/types.js';

function p(spec: string): Platform {
  const [os = '', architecture = '', variant] = spec.split('/');
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

describe('parsePlatform', () => {
  it.each([
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/arm/v6', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['linux/arm', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['Linux/AArch64', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/x86_64', { os: 'linux', architecture: 'amd64' }],
    ['windows/amd64', { os: 'windows', architecture: 'amd64' }],
    ['linux/ppc64le', { os: 'linux', architecture: 'ppc64le' }],
    ['linux/riscv64', { os: 'linux', architecture: 'riscv64' }],
  ])('%s → normalized %j', (spec, expected) => {
    expect(parsePlatform(spec)).toEqual(expected);
  });

  it.each(['', 'linux', 'amd64', 'linux/', '/amd64', 'linux//v7', 'linux/arm/v7/extra', 'linux amd64', 'linux/amd64 ', 'linux/$x'])(
    'rejects %j with PLATFORM_INVALID and a hint',
    (spec) => {
      let caught: unknown;
      try {
        parsePlatform(spec);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(GantryError);
      expect((caught as GantryError).code).toBe('PLATFORM_INVALID');
      expect((caught as GantryError).hint).toContain('linux/arm64/v8');
    },
  );
});

describe('normalizePlatform', () => {
  it.each([
    ['linux/aarch64', 'linux/arm64/v8'],
    ['linux/arm64', 'linux/arm64/v8'],
    ['linux/arm64/8', 'linux/arm64/v8'],
    ['linux/arm64/v8.2', 'linux/arm64/v8.2'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/7', 'linux/arm/v7'],
    ['linux/arm/6', 'linux/arm/v6'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/x86-64', 'linux/amd64'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
    ['linux/i386', 'linux/386'],
    ['LINUX/AMD64', 'linux/amd64'],
    ['macos/arm64', 'darwin/arm64/v8'],
    ['linux/s390x', 'linux/s390x'],
  ])('%s → %s', (input, expected) => {
    expect(formatPlatform(normalizePlatform(p(input)))).toBe(expected);
  });

  it('keeps os.version and features and does not modify its argument', () => {
    const input: Platform = { os: 'Windows', architecture: 'x86_64', 'os.version': '10.0.17763.5329', 'os.features': ['win32k'] };
    const copy = structuredClone(input);
    expect(normalizePlatform(input)).toEqual({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.5329', 'os.features': ['win32k'] });
    expect(input).toEqual(copy);
  });

  it('is idempotent', () => {
    for (const spec of ['linux/aarch64', 'linux/armhf', 'linux/amd64/v1', 'linux/arm', 'linux/i386']) {
      const once = normalizePlatform(p(spec));
      expect(normalizePlatform(once)).toEqual(once);
    }
  });
});

describe('formatPlatform', () => {
  it('writes os/arch and the variant only when there is one', () => {
    expect(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe('linux/arm64/v8');
    expect(formatPlatform({ os: 'linux', architecture: 'amd64' })).toBe('linux/amd64');
    expect(formatPlatform({ os: 'linux', architecture: 'amd64', variant: '' })).toBe('linux/amd64');
  });

  it('round-trips through parsePlatform for normalized platforms', () => {
    for (const spec of ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v6', 'windows/amd64', 'linux/amd64/v3']) {
      expect(formatPlatform(parsePlatform(spec))).toBe(spec);
    }
  });
});

describe('platformMatches and compatibilityRank', () => {
  it.each([
    // want, have, rank (undefined: no match)
    ['linux/arm64', 'linux/arm64/v8', 0],
    ['linux/arm64/v8', 'linux/arm64', 0],
    ['linux/aarch64', 'linux/arm64/v8', 0],
    ['linux/arm', 'linux/arm/v7', 0],
    ['linux/armhf', 'linux/arm/v7', 0],
    ['linux/amd64', 'linux/x86_64', 0],
    ['linux/amd64/v1', 'linux/amd64', 0],
    ['linux/arm/v7', 'linux/arm/v6', 1],
    ['linux/arm/v7', 'linux/arm/v5', 2],
    ['linux/arm/v8', 'linux/arm/v7', 1],
    ['linux/arm64/v8.2', 'linux/arm64/v8.1', 1],
    ['linux/arm64/v8.2', 'linux/arm64/v8', 2],
    ['linux/arm64/v9', 'linux/arm64/v8.5', 1],
    ['linux/arm64/v9', 'linux/arm64/v8', 6],
    ['linux/amd64/v3', 'linux/amd64/v2', 1],
    ['linux/amd64/v3', 'linux/amd64', 2],
    ['linux/riscv64/rva22', 'linux/riscv64', 1],
    ['linux/arm/v6', 'linux/arm/v7', undefined],
    ['linux/arm64/v8', 'linux/arm64/v8.2', undefined],
    ['linux/amd64', 'linux/amd64/v2', undefined],
    ['linux/amd64', 'linux/386', undefined],
    ['linux/arm64', 'linux/arm/v7', undefined],
    ['linux/amd64', 'windows/amd64', undefined],
    ['linux/amd64', 'linux/arm64', undefined],
  ])('want %s, have %s → %s', (want, have, rank) => {
    expect(compatibilityRank(p(want), p(have))).toBe(rank);
    expect(platformMatches(p(want), p(have))).toBe(rank !== undefined);
  });

  it('requires the os.version the caller asks for, and only then', () => {
    const build1 = { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' };
    const build2 = { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.1' };
    expect(platformMatches(build1, build2)).toBe(false);
    expect(platformMatches(build1, build1)).toBe(true);
    expect(platformMatches({ os: 'windows', architecture: 'amd64' }, build2)).toBe(true);
  });
});

describe('platformEquals', () => {
  it('equates spellings of the same platform and nothing compatible-but-different', () => {
    expect(platformEquals(p('linux/aarch64'), p('linux/arm64/v8'))).toBe(true);
    expect(platformEquals(p('linux/arm'), p('linux/armhf'))).toBe(true);
    expect(platformEquals(p('linux/arm/v7'), p('linux/arm/v6'))).toBe(false);
    expect(platformEquals({ os: 'windows', architecture: 'amd64' }, { os: 'windows', architecture: 'amd64', 'os.version': '10.0.1' })).toBe(false);
  });
});
