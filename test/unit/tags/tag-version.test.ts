import { describe, expect, it } from 'vitest';
import { compareTagVersions, semverOf } from '../../../src/tags/tag-version.js';

function summary(tag: string, options: Parameters<typeof semverOf>[1] = {}): string | null {
  const v = semverOf(tag, options);
  if (v === null) return null;
  return v.suffix === undefined ? v.version.version : `${v.version.version} +suffix ${v.suffix}`;
}

describe('semverOf, non-strict (the default)', () => {
  it.each([
    ['1.2.3', '1.2.3'],
    ['v1.2.3', '1.2.3'],
    ['1.2', '1.2.0'],
    ['v1.2', '1.2.0'],
    ['1', '1.0.0'],
    ['3.20', '3.20.0'],
    ['3.20.1', '3.20.1'],
    ['22.04', '22.4.0'],
    ['1.0.0-rc.1', '1.0.0-rc.1'],
    ['2.0-beta2', '2.0.0-beta2'],
    ['1.25.0-alpha', '1.25.0-alpha'],
    ['8-ea', '8.0.0-ea'],
  ])('%s → %s', (tag, expected) => {
    expect(summary(tag)).toBe(expected);
  });

  it.each(['latest', 'edge', 'stable', 'mainline', 'sha-abc1234', 'alpine', 'bookworm', '1.2.3.4', '1.2_3', 'v', '', '-1.2', 'v1.2.3 ', 'x'.repeat(129)])(
    '%j names no version',
    (tag) => {
      expect(semverOf(tag)).toBeNull();
      expect(semverOf(tag, { includeSuffixed: true })).toBeNull();
    },
  );

  it.each(['20240101', '20240923', 'v20240101', '123456', '4815162342', '20240101-alpine', '20240101-rc1'])(
    '%j, a date or build number (one number of 6 or more digits), names no version',
    (tag) => {
      expect(semverOf(tag)).toBeNull();
      expect(semverOf(tag, { includeSuffixed: true })).toBeNull();
    },
  );

  it.each([
    ['99999', '99999.0.0'],
    ['2024.06', '2024.6.0'],
    ['20240101.1', '20240101.1.0'],
  ])('still reads %s, which has fewer digits or more than one number, as %s', (tag, expected) => {
    expect(summary(tag)).toBe(expected);
  });

  it.each(['3.22-alpine', '20-bookworm-slim', '1.25.3-alpine3.19', '1.2.3-r0'])('leaves suffixed %s out unless asked', (tag) => {
    expect(semverOf(tag)).toBeNull();
  });

  it.each([
    ['3.22-alpine', '3.22.0 +suffix alpine'],
    ['20-bookworm-slim', '20.0.0 +suffix bookworm-slim'],
    ['1.25.3-alpine3.19', '1.25.3 +suffix alpine3.19'],
    ['3.22.1-alpine', '3.22.1 +suffix alpine'],
    ['1.0.0-rc.1-alpine', '1.0.0-rc.1 +suffix alpine'],
    ['v2.1-windowsservercore-ltsc2022', '2.1.0 +suffix windowsservercore-ltsc2022'],
  ])('with includeSuffixed, reads %s as %s', (tag, expected) => {
    expect(summary(tag, { includeSuffixed: true })).toBe(expected);
  });

  it('keeps the tag it was given', () => {
    expect(semverOf('v1.2', { includeSuffixed: true })?.tag).toBe('v1.2');
  });
});

describe('semverOf, strict', () => {
  it.each([
    ['1.2.3', '1.2.3'],
    ['v1.2.3', '1.2.3'],
    ['1.0.0-rc.1', '1.0.0-rc.1'],
    // Valid semver, so in strict mode the suffix is a prerelease, as semver says.
    ['3.22.1-alpine', '3.22.1-alpine'],
  ])('accepts %s as %s', (tag, expected) => {
    expect(summary(tag, { strict: true })).toBe(expected);
    expect(summary(tag, { strict: true, includeSuffixed: true })).toBe(expected);
  });

  it.each(['1.2', 'v1.2', '1', '3.22-alpine', '01.2.3', '1.2.3-01', 'vv1.2.3', 'latest'])('rejects %s', (tag) => {
    expect(semverOf(tag, { strict: true })).toBeNull();
  });
});

describe('compareTagVersions', () => {
  function cmp(a: string, b: string): number {
    const va = semverOf(a, { includeSuffixed: true });
    const vb = semverOf(b, { includeSuffixed: true });
    if (va === null || vb === null) throw new Error('test tags must be versions');
    return Math.sign(compareTagVersions(va, vb));
  }

  it('orders by semver precedence first', () => {
    expect(cmp('1.9', '1.10')).toBe(-1);
    expect(cmp('1.0.0-rc.1', '1.0.0')).toBe(-1);
    expect(cmp('2-alpine', '1.99.99')).toBe(1);
  });

  it('puts a plain version before its suffixed variants', () => {
    expect(cmp('3.22', '3.22-alpine')).toBe(-1);
    expect(cmp('3.22-alpine', '3.22')).toBe(1);
  });

  it('breaks the remaining ties by tag text', () => {
    expect(cmp('1.2', '1.2.0')).toBe(-1);
    expect(cmp('1.2.0', 'v1.2.0')).toBe(-1);
    expect(cmp('v1.2.0', 'v1.2.0')).toBe(0);
  });
});
