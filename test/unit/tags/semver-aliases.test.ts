import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { aliasTagsOf, semverAliases, type AliasDecision } from '../../../src/tags/semver-aliases.js';

const NEW = 'sha256:1111111111111111111111111111111111111111111111111111111111111111';
const OLD = 'sha256:2222222222222222222222222222222222222222222222222222222222222222';

/** The decisions in a compact form: `alias:reason` (plus `<newer`), minor, major, latest. */
function summary(decisions: AliasDecision[] | null): string[] | null {
  return decisions?.map((d) => `${d.alias}:${d.reason}${d.newer ? `<${d.newer}` : ''}`) ?? null;
}

describe('aliasTagsOf', () => {
  it.each([
    ['1.2.3', ['1.2', '1', 'latest']],
    ['v1.2.3', ['v1.2', 'v1', 'latest']],
    ['V2.0.10', ['V2.0', 'V2', 'latest']],
    ['0.3.1', ['0.3', '0', 'latest']],
    ['1.3.0-rc.1', ['1.3', '1', 'latest']],
  ])('%s has the aliases %j', (tag, aliases) => {
    expect(aliasTagsOf(tag)).toEqual(aliases);
  });

  it.each(['1.2', 'v1', 'latest', '20240101', '01.2.3', '1.2.3.4', 'version1.2.3', ''])('%j is not a whole version: null', (tag) => {
    expect(aliasTagsOf(tag)).toBeNull();
  });
});

describe('semverAliases', () => {
  it.each<[string, string, string[], string[]]>([
    ['the first version of a repository takes every alias', '1.0.0', [], ['1.0:highest', '1:highest', 'latest:highest']],
    ['a new patch moves all three', '1.2.4', ['1.2.3', '1.2', '1', 'latest'], ['1.2:highest', '1:highest', 'latest:highest']],
    ['a new minor moves all three', '1.3.0', ['1.2.3', '1.2', '1', 'latest'], ['1.3:highest', '1:highest', 'latest:highest']],
    [
      'a backport patch moves only its minor line',
      '1.1.9',
      ['1.1.8', '1.2.0', '1.1', '1.2', '1', 'latest'],
      ['1.1:highest', '1:newer<1.2.0', 'latest:newer<1.2.0'],
    ],
    [
      'a fix for an old major moves its minor and major lines, not latest',
      '1.4.2',
      ['1.4.1', '2.0.0', '1.4', '1', '2', 'latest'],
      ['1.4:highest', '1:highest', 'latest:newer<2.0.0'],
    ],
    ['an older patch than one already out moves nothing', '1.2.2', ['1.2.3'], ['1.2:newer<1.2.3', '1:newer<1.2.3', 'latest:newer<1.2.3']],
    ['re-tagging the highest version again counts as highest (a tie)', '1.2.3', ['1.2.3', '1.0.0'], ['1.2:highest', '1:highest', 'latest:highest']],
    ['v prefixes give v aliases', 'v1.2.3', ['v1.2.2', 'v1.2', 'v1', 'latest'], ['v1.2:highest', 'v1:highest', 'latest:highest']],
    ['a higher release counts whatever its prefix', '1.2.4', ['v1.2.5'], ['1.2:newer<v1.2.5', '1:newer<v1.2.5', 'latest:newer<v1.2.5']],
    ['a prerelease never moves aliases', '2.0.0-rc.1', ['1.9.0'], ['2.0:prerelease', '2:prerelease', 'latest:prerelease']],
    ['a suffixed tag is a prerelease in semver, so it moves nothing', '1.2.4-alpine', ['1.2.3'], ['1.2:prerelease', '1:prerelease', 'latest:prerelease']],
    ['existing prereleases do not hold a release back', '1.9.0', ['2.0.0-rc.1', '2.0.0-beta.3'], ['1.9:highest', '1:highest', 'latest:highest']],
    ['alias-style, date and name tags are not releases', '1.2.3', ['1.3', '2', '20240101', 'edge', 'sha-abc'], ['1.2:highest', '1:highest', 'latest:highest']],
    ['a 0.x version has 0.x aliases', '0.3.1', ['0.3.0', '0.2.9'], ['0.3:highest', '0:highest', 'latest:highest']],
    ['versions compare numerically, not as text', '1.10.0', ['1.9.0', '1.2.0'], ['1.10:highest', '1:highest', 'latest:highest']],
    ['equal newer releases are named by the first in code point order', '1.0.0', ['v1.1.0', '1.1.0'], ['1.0:highest', '1:newer<1.1.0', 'latest:newer<1.1.0']],
  ])('%s', (_name, version, tags, expected) => {
    expect(summary(semverAliases({ version, digest: NEW, tags }))).toEqual(expected);
  });

  it('an alias that already names the digest is a no-op, and the others still move', () => {
    const decisions = semverAliases({
      version: '1.2.4',
      digest: NEW,
      tags: ['1.2.3', '1.2.4', '1.2', '1', 'latest'],
      current: new Map([
        ['1.2', NEW],
        ['1', OLD],
      ]),
    });
    expect(decisions).toEqual([
      { alias: '1.2', line: 'minor', write: false, reason: 'current', from: NEW },
      { alias: '1', line: 'major', write: true, reason: 'highest', from: OLD },
      { alias: 'latest', line: 'latest', write: true, reason: 'highest' },
    ]);
  });

  it('a held alias keeps the digest it names, for the caller to show', () => {
    const [minor, major] = semverAliases({ version: '1.1.9', digest: NEW, tags: ['1.2.0'], current: new Map([['1', OLD]]) }) ?? [];
    expect(minor).toEqual({ alias: '1.1', line: 'minor', write: true, reason: 'highest' });
    expect(major).toEqual({ alias: '1', line: 'major', write: false, reason: 'newer', newer: '1.2.0', from: OLD });
  });

  it.each(['1.2', 'latest', 'build-7'])('returns null for %j, which is not a whole version', (version) => {
    expect(semverAliases({ version, digest: NEW, tags: ['1.0.0'] })).toBeNull();
  });

  it('never writes an alias past a higher release of its line (property)', () => {
    const release = fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4), fc.constantFrom('', 'v')).map(([a, b, c, p]) => `${p}${a}.${b}.${c}`);
    fc.assert(
      fc.property(release, fc.array(release, { maxLength: 12 }), (version, tags) => {
        const decisions = semverAliases({ version, digest: NEW, tags }) ?? [];
        const v = semver.parse(version.replace(/^v/, '')) as semver.SemVer;
        const others = tags.map((t) => semver.parse(t.replace(/^v/, '')) as semver.SemVer);
        const sameLine = {
          minor: others.filter((o) => o.major === v.major && o.minor === v.minor),
          major: others.filter((o) => o.major === v.major),
          latest: others,
        };
        for (const d of decisions) {
          const higher = sameLine[d.line].some((o) => semver.gt(o, v));
          expect(d.write).toBe(!higher);
        }
      }),
    );
  });
});
