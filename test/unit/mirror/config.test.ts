import { describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import { parseMirrorConfig } from '../../../src/mirror/config.js';
import { repositoryOf } from '../../../src/reference/index.js';

const EXAMPLE = `defaults:
  platforms: [linux/amd64, linux/arm64]
  concurrency: 8
  skipExisting: false
  prune: true
  includePrerelease: false
  registries:
    docker.io: { connections: 4, rps: 10 }
sources:
  - repository: alpine
    semver: ">=3.19"
    exclude: ["-rc"]
    latest: 3
    destinations:
      - registry: registry.example.com
        prefix: mirror
      - repository: localhost:5000/base/alpine
  - repository: ghcr.io/org/app
    tags: [latest, stable]
    include: ["^v"]
    platforms: [linux/arm64/v8]
    includePrerelease: true
    destinations:
      - { registry: registry.example.com, rename: apps/app }
`;

function errorOf(text: string): GantryError {
  try {
    parseMirrorConfig(text);
  } catch (err) {
    if (err instanceof GantryError) return err;
    throw err;
  }
  throw new Error('expected parseMirrorConfig to throw');
}

describe('parseMirrorConfig', () => {
  it('normalizes a complete file', () => {
    const spec = parseMirrorConfig(EXAMPLE);
    expect(spec.defaults).toEqual({
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
      concurrency: 8,
      skipExisting: false,
      prune: true,
      includePrerelease: false,
      registries: { 'docker.io': { connections: 4, rps: 10 } },
    });
    const [alpine, app] = spec.sources;
    expect(repositoryOf(alpine!.repository)).toBe('docker.io/library/alpine');
    expect(alpine!.selection).toMatchObject({ tags: [], semver: '>=3.19', latest: 3, includePrerelease: false });
    expect(alpine!.selection.exclude.map(String)).toEqual(['/-rc/']);
    expect(alpine!.platforms).toEqual(spec.defaults.platforms);
    expect(alpine!.destinations.map((d) => repositoryOf(d.repository))).toEqual([
      'registry.example.com/mirror/library/alpine',
      'localhost:5000/base/alpine',
    ]);
    expect(alpine!.origin).toBe('mirror.yaml:10');
    expect(app!.selection).toMatchObject({ tags: ['latest', 'stable'], includePrerelease: true });
    expect(app!.platforms).toEqual([{ os: 'linux', architecture: 'arm64', variant: 'v8' }]);
    expect(app!.destinations.map((d) => repositoryOf(d.repository))).toEqual(['registry.example.com/apps/app']);
  });

  it('applies defaults when the file has none', () => {
    const spec = parseMirrorConfig('sources:\n  - repository: alpine\n    destinations: [{ repository: localhost:5000/alpine }]\n');
    expect(spec.defaults).toEqual({ skipExisting: false, prune: false, includePrerelease: false, registries: {} });
    expect(spec.sources[0]!.platforms).toBeUndefined();
  });

  it.each([
    ['a wrong type', 'sources:\n  - repository: a\n    destinations: [{ repository: localhost:5000/a }]\n  - repository: b\n    semver: 3\n    destinations: [{ repository: localhost:5000/b }]\n', 'mirror.yaml:5: sources[1].semver: must be a string'],
    ['an unknown field', 'sources:\n  - repository: a\n    tagz: [x]\n    destinations: [{ repository: localhost:5000/a }]\n', 'mirror.yaml:3: sources[0].tagz: is not a known field'],
    ['a missing field', 'sources:\n  - repository: a\n    semver: ">=1"\n', 'mirror.yaml:2: sources[0].destinations: is required'],
    ['no sources', 'defaults: {}\n', 'mirror.yaml:1: sources: is required'],
    ['an empty list', 'sources: []\n', 'mirror.yaml:1: sources: must have at least 1 item'],
    ['a bad integer', 'defaults:\n  concurrency: 0\nsources: []\n', 'mirror.yaml:2: defaults.concurrency: must be >= 1'],
    ['a bad regex', 'sources:\n  - repository: a\n    include:\n      - "^ok"\n      - "(unclosed"\n    destinations: [{ repository: localhost:5000/a }]\n', 'mirror.yaml:5: sources[0].include[1]: invalid regular expression'],
    ['a bad range', 'sources:\n  - repository: a\n    semver: ">=> 1"\n    destinations: [{ repository: localhost:5000/a }]\n', 'mirror.yaml:3: sources[0].semver: invalid semver range'],
    ['a bad platform', 'sources:\n  - repository: a\n    platforms: [linux]\n    destinations: [{ repository: localhost:5000/a }]\n', 'mirror.yaml:3: sources[0].platforms[0]: invalid platform'],
    ['a bad repository', 'sources:\n  - repository: UPPER/Case\n    destinations: [{ repository: localhost:5000/a }]\n', 'mirror.yaml:2: sources[0].repository:'],
    ['both destination forms', 'sources:\n  - repository: a\n    destinations:\n      - repository: localhost:5000/a\n        registry: localhost:5000\n', 'mirror.yaml:4: sources[0].destinations[0]: names both repository and registry'],
    ['neither destination form', 'sources:\n  - repository: a\n    destinations:\n      - prefix: x\n', 'mirror.yaml:4: sources[0].destinations[0]: needs repository'],
    ['prefix without registry', 'sources:\n  - repository: a\n    destinations:\n      - repository: localhost:5000/a\n        prefix: x\n', 'mirror.yaml:5: sources[0].destinations[0].prefix: applies only with registry'],
    ['a registry that reads as a namespace', 'sources:\n  - repository: a\n    destinations:\n      - registry: mirror\n', 'mirror.yaml:4: sources[0].destinations[0]: "mirror" does not read as a registry host'],
    ['a registry with a path', 'sources:\n  - repository: a\n    destinations:\n      - registry: ghcr.io/x\n', 'mirror.yaml:4: sources[0].destinations[0].registry: must be a registry host without a path'],
    ['a destination equal to its source', 'sources:\n  - repository: localhost:5000/a\n    destinations:\n      - repository: localhost:5000/a\n', 'mirror.yaml:4: sources[0].destinations[0]: is the source itself'],
    ['a YAML syntax error', 'sources:\n  - repository: a\n   bad: [\n', 'mirror.yaml:3: invalid YAML'],
    ['a duplicate key', 'sources: []\nsources: []\n', 'mirror.yaml:2: invalid YAML'],
  ])('reports %s with its line and field', (_name, text, expected) => {
    const err = errorOf(text);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message.startsWith(expected), err.message).toBe(true);
  });

  it('lists every schema problem in details, the first line first', () => {
    const err = errorOf('sources:\n  - repository: 1\n    latest: x\n    destinations: [{ repository: localhost:5000/a }]\n');
    expect(err.message).toBe('mirror.yaml:2: sources[0].repository: must be a string');
    expect(err.details?.['line']).toBe(2);
    expect(err.details?.['problems']).toEqual(['2: sources[0].repository: must be a string', '3: sources[0].latest: must be an integer']);
  });

  it('names the file it was given', () => {
    const err = errorOf('sources: 1\n');
    expect(err.message).toBe('mirror.yaml:1: sources: must be an array');
    try {
      parseMirrorConfig('sources: 1\n', { fileName: 'ci/mirror.yml' });
    } catch (e) {
      expect((e as GantryError).message).toBe('ci/mirror.yml:1: sources: must be an array');
    }
  });

  it('refuses alias bombs', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 6; i++) lines.push(`${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10).fill(i === 1 ? '*a' : `*${'b'.repeat(i - 1)}`).join(', ')}]`);
    lines.push('sources: []');
    expect(errorOf(lines.join('\n')).message).toMatch(/^mirror\.yaml: invalid YAML: Excessive alias count/);
  });
});
