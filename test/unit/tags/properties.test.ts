import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { filterTags, latestTag } from '../../../src/tags/filter-tags.js';
import { sortTags } from '../../../src/tags/sort-tags.js';
import { semverOf } from '../../../src/tags/tag-version.js';

const num = fc.integer({ min: 0, max: 30 }).map(String);
const versionTag = fc
  .tuple(
    fc.constantFrom('', 'v'),
    num,
    fc.option(num, { nil: undefined }),
    fc.option(num, { nil: undefined }),
    fc.constantFrom('', '-rc.1', '-beta2', '-alpine', '-bookworm-slim', '-rc.1-alpine', '-r0'),
  )
  .map(([v, a, b, c, rest]) => `${v}${a}${b === undefined ? '' : `.${b}`}${c === undefined ? '' : `.${c}`}${rest}`);
const nameTag = fc.oneof(fc.constantFrom('latest', 'edge', 'stable', 'sha-abc1234', 'main', '3.21.0_rc1'), fc.stringMatching(/^[\w][\w.-]{0,12}$/));
const tagList = fc.array(fc.oneof(versionTag, nameTag), { maxLength: 30 });
const range = fc.constantFrom('*', '>=1', '^2.1', '~3.20', '1.x', '>=1.2.3 <2', '<0.5', '>=1.0.0-rc.0', '2 || 5 - 7');
const versionOptions = fc.record({ strict: fc.boolean(), includePrerelease: fc.boolean(), includeSuffixed: fc.boolean() });

function isSubsequence(sub: readonly string[], of: readonly string[]): boolean {
  let i = 0;
  for (const item of of) if (i < sub.length && sub[i] === item) i++;
  return i === sub.length;
}

describe('tag selection properties', () => {
  it('sortTags returns a permutation of its input', () => {
    fc.assert(
      fc.property(tagList, fc.constantFrom('semver', 'alpha') as fc.Arbitrary<'semver' | 'alpha'>, versionOptions, (tags, by, options) => {
        const sorted = sortTags(tags, by, options);
        expect([...sorted].sort()).toEqual([...tags].sort());
      }),
    );
  });

  it('sortTags does not depend on the input order and is idempotent', () => {
    const shuffled = tagList.chain((tags) => fc.tuple(fc.constant(tags), fc.shuffledSubarray(tags, { minLength: tags.length, maxLength: tags.length })));
    fc.assert(
      fc.property(shuffled, versionOptions, ([tags, reordered], options) => {
        const sorted = sortTags(tags, 'semver', options);
        expect(sortTags(reordered, 'semver', options)).toEqual(sorted);
        expect(sortTags(sorted, 'semver', options)).toEqual(sorted);
      }),
    );
  });

  it('sortTags puts versions in non-decreasing semver order before every other tag', () => {
    fc.assert(
      fc.property(tagList, versionOptions, (tags, options) => {
        const versions = sortTags(tags, 'semver', options).map((t) => semverOf(t, options));
        const firstName = versions.indexOf(null);
        const head = firstName === -1 ? versions : versions.slice(0, firstName);
        expect(versions.slice(head.length).every((v) => v === null)).toBe(true);
        for (let i = 1; i < head.length; i++) expect(semver.compare(head[i - 1]!.version, head[i]!.version)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('filterTags keeps a subsequence of its input, every kept tag satisfying the range', () => {
    fc.assert(
      fc.property(tagList, range, versionOptions, (tags, r, options) => {
        const kept = filterTags(tags, { range: r, ...options });
        expect(isSubsequence(kept, tags)).toBe(true);
        for (const tag of kept) {
          const v = semverOf(tag, options);
          expect(v).not.toBeNull();
          expect(semver.satisfies(v!.version, r, { includePrerelease: options.includePrerelease })).toBe(true);
        }
      }),
    );
  });

  it('latestTag is a kept tag that satisfies the range and that no kept tag outranks', () => {
    fc.assert(
      fc.property(tagList, range, versionOptions, (tags, r, options) => {
        const kept = filterTags(tags, { range: r, ...options });
        const latest = latestTag(tags, { range: r, ...options });
        if (kept.length === 0) {
          expect(latest).toBeNull();
          return;
        }
        expect(latest).not.toBeNull();
        expect(kept).toContain(latest);
        const top = semverOf(latest!, options)!.version;
        expect(semver.satisfies(top, r, { includePrerelease: options.includePrerelease })).toBe(true);
        for (const tag of kept) expect(semver.compare(semverOf(tag, options)!.version, top)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('semverOf never throws, whatever the string', () => {
    fc.assert(
      fc.property(fc.string(), versionOptions, (tag, options) => {
        semverOf(tag, options);
      }),
    );
  });
});
