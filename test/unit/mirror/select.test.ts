import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selectTags } from '../../../src/mirror/select.js';
import type { TagSelection } from '../../../src/mirror/types.js';

const TAGS = ['latest', 'edge', '3.19', '3.19.1', '3.20', '3.20.0-rc.1', '3.21', '3.22', '3.22-alpine', '3.22.1', 'v4.0.0', 'sha-abc123', '20240101'];

function sel(partial: Partial<TagSelection>): TagSelection {
  return { tags: [], include: [], exclude: [], includePrerelease: false, ...partial };
}

describe('selectTags', () => {
  it.each<[string, Partial<TagSelection>, string[]]>([
    ['everything when nothing is given', {}, ['3.19', '3.19.1', '3.20.0-rc.1', '3.20', '3.21', '3.22', '3.22-alpine', '3.22.1', 'v4.0.0', '20240101', 'edge', 'latest', 'sha-abc123']],
    ['only the explicit tags', { tags: ['latest', 'edge'] }, ['edge', 'latest']],
    ['versions in a range, never non-semver tags', { semver: '>=3.21' }, ['3.21', '3.22', '3.22.1', 'v4.0.0']],
    ['suffixed and prerelease versions with includePrerelease', { semver: '>=3.20 <3.23', includePrerelease: true }, ['3.20.0-rc.1', '3.20', '3.21', '3.22', '3.22-alpine', '3.22.1']],
    ['explicit tags united with a range', { tags: ['latest'], semver: '^4' }, ['v4.0.0', 'latest']],
    ['the range AND the include regexes', { semver: '>=3.19', include: [/^3\.2/] }, ['3.20', '3.21', '3.22', '3.22.1']],
    ['non-semver tags by regex', { include: [/^sha-/] }, ['sha-abc123']],
    ['nothing the exclude regexes match', { semver: '>=3.19', exclude: [/\.1$/] }, ['3.19', '3.20', '3.21', '3.22', 'v4.0.0']],
    ['explicit tags even when excluded', { tags: ['3.19.1'], exclude: [/\.1$/] }, ['3.19', '3.19.1', '3.20', '3.21', '3.22', '3.22-alpine', 'v4.0.0', '20240101', 'edge', 'latest', 'sha-abc123']],
    ['the newest N by semver', { latest: 2 }, ['3.22.1', 'v4.0.0']],
    ['the newest N of a range, explicit tags kept', { tags: ['edge'], semver: '<4', latest: 3 }, ['3.21', '3.22', '3.22.1', 'edge']],
    ['the newest N counting suffixed tags with includePrerelease', { semver: '~3.22', latest: 2, includePrerelease: true }, ['3.22-alpine', '3.22.1']],
  ])('selects %s', (_name, partial, expected) => {
    expect(selectTags(TAGS, sel(partial)).tags).toEqual(expected);
  });

  it('reports explicit tags the source lacks', () => {
    expect(selectTags(TAGS, sel({ tags: ['latest', 'gone', '9.9'] }))).toEqual({ tags: ['latest'], missing: ['9.9', 'gone'] });
  });

  it('gives the same answer for a global regex every time', () => {
    const s = sel({ include: [/^3/g] });
    expect(selectTags(TAGS, s).tags).toEqual(selectTags(TAGS, s).tags);
  });

  it('throws SEMVER_RANGE_INVALID for a bad range', () => {
    expect(() => selectTags(TAGS, sel({ semver: '>=> 1' }))).toThrow(expect.objectContaining({ code: 'SEMVER_RANGE_INVALID' }));
  });

  const tag = fc.oneof(
    fc.constantFrom(...TAGS),
    fc.tuple(fc.nat(5), fc.nat(5), fc.nat(5)).map(([a, b, c]) => `${a}.${b}.${c}`),
    fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,8}$/),
  );
  const selection = fc.record({
    tags: fc.array(tag, { maxLength: 3 }),
    semver: fc.option(fc.constantFrom('>=1', '<3', '^2', '~1.2', '*'), { nil: undefined }),
    include: fc.array(fc.constantFrom(/^\d/, /a/, /\./), { maxLength: 2 }),
    exclude: fc.array(fc.constantFrom(/^v/, /-/, /0$/), { maxLength: 2 }),
    latest: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    includePrerelease: fc.boolean(),
  });

  it('selects a subset of the available tags, deterministically and whatever their order', () => {
    fc.assert(
      fc.property(fc.array(tag, { maxLength: 30 }), selection, fc.nat(), (available, s, seed) => {
        const clean = Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as unknown as TagSelection;
        const first = selectTags(available, clean);
        const have = new Set(available);
        expect(first.tags.every((t) => have.has(t))).toBe(true);
        expect(new Set(first.tags).size).toBe(first.tags.length);
        const shuffled = [...available].sort((a, b) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7));
        expect(selectTags(shuffled, clean)).toEqual(first);
        if (clean.latest !== undefined) expect(first.tags.filter((t) => !clean.tags.includes(t)).length).toBeLessThanOrEqual(clean.latest);
      }),
      { numRuns: 300 },
    );
  });
});

