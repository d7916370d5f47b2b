import { describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import { filterTags, latestTag } from '../../../src/tags/filter-tags.js';
import { sortTags } from '../../../src/tags/sort-tags.js';

// Tag sets in the style of Docker Hub's official images.
const ALPINE = ['latest', 'edge', '3', '3.19', '3.19.1', '3.20', '3.20.0', '3.20.1', '3.20.3', '3.21', '3.21.0_rc1', '20240923', '3.21.0'];
const NODE = ['latest', 'lts', '20', '20.11', '20.11.1', '20-bookworm-slim', '20-alpine', '22-alpine', '22', '22.1.0', '23.0.0-rc.1', 'current-alpine'];
const MIXED = ['v1.2.3', '1.2', 'latest', 'edge', '3.22-alpine', '1.0.0-rc.1', '20-bookworm-slim', 'sha-abc1234', '1.10.0', 'v1.9'];

describe('sortTags', () => {
  it('sorts versions by semver and puts the rest after them, alphabetically', () => {
    expect(sortTags(MIXED, 'semver')).toEqual(['1.0.0-rc.1', '1.2', 'v1.2.3', 'v1.9', '1.10.0', '20-bookworm-slim', '3.22-alpine', 'edge', 'latest', 'sha-abc1234']);
  });

  it('defaults to semver order', () => {
    expect(sortTags(MIXED)).toEqual(sortTags(MIXED, 'semver'));
  });

  it('places suffixed tags by their version when asked', () => {
    expect(sortTags(MIXED, 'semver', { includeSuffixed: true })).toEqual([
      '1.0.0-rc.1',
      '1.2',
      'v1.2.3',
      'v1.9',
      '1.10.0',
      '3.22-alpine',
      '20-bookworm-slim',
      'edge',
      'latest',
      'sha-abc1234',
    ]);
  });

  it('sorts an alpine-like set with the date tag 20240923 and 3.21.0_rc1 as names', () => {
    expect(sortTags(ALPINE)).toEqual(['3', '3.19', '3.19.1', '3.20', '3.20.0', '3.20.1', '3.20.3', '3.21', '3.21.0', '20240923', '3.21.0_rc1', 'edge', 'latest']);
    expect(sortTags(['20240923', '1.0', '0rc'])).toEqual(['1.0', '0rc', '20240923']);
  });

  it('in strict mode only full semver counts as a version', () => {
    expect(sortTags(MIXED, 'semver', { strict: true })).toEqual([
      '1.0.0-rc.1',
      'v1.2.3',
      '1.10.0',
      '1.2',
      '20-bookworm-slim',
      '3.22-alpine',
      'edge',
      'latest',
      'sha-abc1234',
      'v1.9',
    ]);
  });

  it('sorts alphabetically by code point, whatever the locale', () => {
    expect(sortTags(['b', 'B', 'a', '10', '9', 'é'], 'alpha')).toEqual(['10', '9', 'B', 'a', 'b', 'é']);
  });

  it('does not modify its input', () => {
    const input = [...MIXED];
    sortTags(input);
    sortTags(input, 'alpha');
    expect(input).toEqual(MIXED);
  });
});

describe('filterTags', () => {
  it.each([
    ['>=3.20 <4', ALPINE, {}, ['3.20', '3.20.0', '3.20.1', '3.20.3', '3.21', '3.21.0']],
    ['~3.20', ALPINE, {}, ['3.20', '3.20.0', '3.20.1', '3.20.3']],
    ['^20', NODE, {}, ['20', '20.11', '20.11.1']],
    ['^20', NODE, { includeSuffixed: true }, ['20', '20.11', '20.11.1', '20-bookworm-slim', '20-alpine']],
    ['>=22', NODE, { includePrerelease: true }, ['22', '22.1.0', '23.0.0-rc.1']],
    ['>=22', NODE, {}, ['22', '22.1.0']],
    ['1.x', MIXED, {}, ['v1.2.3', '1.2', '1.10.0', 'v1.9']],
    ['1.x', MIXED, { strict: true }, ['v1.2.3', '1.10.0']],
    ['*', MIXED, {}, ['v1.2.3', '1.2', '1.10.0', 'v1.9']],
  ])('%s keeps the matching tags in input order (%#)', (range, tags, options, expected) => {
    expect(filterTags(tags, { range, ...options })).toEqual(expected);
  });

  it('keeps every plain release when there is no range', () => {
    expect(filterTags(MIXED)).toEqual(['v1.2.3', '1.2', '1.10.0', 'v1.9']);
  });

  it('lets prereleases through without a range only when asked', () => {
    expect(filterTags(MIXED, { includePrerelease: true })).toEqual(['v1.2.3', '1.2', '1.0.0-rc.1', '1.10.0', 'v1.9']);
  });

  it('admits a prerelease that the range names, as node-semver does', () => {
    expect(filterTags(['1.0.0-rc.1', '1.0.0-rc.2', '1.0.0'], { range: '>=1.0.0-rc.2' })).toEqual(['1.0.0-rc.2', '1.0.0']);
  });

  it('selects one variant with suffix', () => {
    expect(filterTags(NODE, { range: '>=20', suffix: 'alpine' })).toEqual(['20-alpine', '22-alpine']);
  });

  it.each(['>=>1', 'not a range', '1.2.3 - - 4'])('rejects the range %j with SEMVER_RANGE_INVALID', (range) => {
    let caught: unknown;
    try {
      filterTags(MIXED, { range });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GantryError);
    expect((caught as GantryError).code).toBe('SEMVER_RANGE_INVALID');
    expect((caught as GantryError).hint).toBeTruthy();
  });
});

describe('latestTag', () => {
  it.each([
    ['alpine-like, 3.x', ALPINE, { range: '3.x' }, '3.21.0'],
    ['alpine-like, ~3.20', ALPINE, { range: '~3.20' }, '3.20.3'],
    ['node-like', NODE, {}, '22.1.0'],
    ['node-like with prereleases', NODE, { includePrerelease: true }, '23.0.0-rc.1'],
    ['node-like alpine variant', NODE, { suffix: 'alpine' }, '22-alpine'],
    ['mixed', MIXED, {}, '1.10.0'],
    ['mixed, suffixed counted', MIXED, { includeSuffixed: true }, '20-bookworm-slim'],
  ])('%s → %s', (_label, tags, options, expected) => {
    expect(latestTag(tags, options)).toBe(expected);
  });

  it('returns null when no tag is a matching version', () => {
    expect(latestTag(['latest', 'edge', 'sha-abc'])).toBeNull();
    expect(latestTag(ALPINE, { range: '>=4 <100' })).toBeNull();
    expect(latestTag(['1.0.0-rc.1'])).toBeNull();
    expect(latestTag([])).toBeNull();
  });

  it('among equal versions prefers the plain tag, then the most explicit, then the first by code point', () => {
    expect(latestTag(['3.22.0-alpine', '3.22'], { includeSuffixed: true })).toBe('3.22');
    expect(latestTag(['1.2', 'v1.2.0', '1.2.0'])).toBe('1.2.0');
    expect(latestTag(['1.2', 'v1.2.0'])).toBe('v1.2.0');
  });

  it('never picks a date or build-number tag as the latest version', () => {
    expect(latestTag(ALPINE)).toBe('3.21.0');
    expect(latestTag(['1.2', 'v1.2.3', '20240101', '4815162342'])).toBe('v1.2.3');
    expect(latestTag(['1.2', 'v1.2.3', '20240101'], { strict: true })).toBe('v1.2.3');
    expect(latestTag(['20-alpine', '20240101-alpine'], { includeSuffixed: true })).toBe('20-alpine');
  });

  it('gives the same answer whatever the input order', () => {
    expect(latestTag([...ALPINE].reverse(), { range: '3.x' })).toBe('3.21.0');
  });
});
