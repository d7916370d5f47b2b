import { describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import { repositoryOf } from '../../../src/reference/index.js';
import { selectTags } from '../../../src/mirror/select.js';
import { parseSkopeoSync } from '../../../src/mirror/skopeo-sync.js';

// The example of skopeo's docs/skopeo-sync.1.md, without the keys gantry refuses.
const SYNC = `registry.example.com:
    images:
        busybox: []
        redis:
            - "1.0"
            - "2.0"
    images-by-tag-regex:
        nginx: ^1\\.13\\.[12]-alpine-perl$
    images-by-semver:
        alpine: ">= 3.12.0, < 4"
    tls-verify: true
quay.io:
    images:
        coreos/etcd:
            - latest
`;

function summary(text: string, options: { destination: string; scoped?: boolean }) {
  return parseSkopeoSync(text, options).sources.map((s) => ({
    source: repositoryOf(s.repository),
    destination: s.destinations.map((d) => repositoryOf(d.repository)),
    tags: s.selection.tags,
    include: s.selection.include.map(String),
    semver: s.selection.semver,
  }));
}

function errorOf(text: string): GantryError {
  try {
    parseSkopeoSync(text, { destination: 'my-registry.local.lan/repo/' });
  } catch (err) {
    if (err instanceof GantryError) return err;
    throw err;
  }
  throw new Error('expected parseSkopeoSync to throw');
}

describe('parseSkopeoSync', () => {
  it('converts the documented example, one source per registry, key and repository', () => {
    expect(summary(SYNC, { destination: 'my-registry.local.lan/repo/' })).toEqual([
      { source: 'registry.example.com/busybox', destination: ['my-registry.local.lan/repo/busybox'], tags: [], include: [], semver: undefined },
      { source: 'registry.example.com/redis', destination: ['my-registry.local.lan/repo/redis'], tags: ['1.0', '2.0'], include: [], semver: undefined },
      { source: 'registry.example.com/nginx', destination: ['my-registry.local.lan/repo/nginx'], tags: [], include: ['/^1\\.13\\.[12]-alpine-perl$/'], semver: undefined },
      { source: 'registry.example.com/alpine', destination: ['my-registry.local.lan/repo/alpine'], tags: [], include: [], semver: '>= 3.12.0 < 4' },
      { source: 'quay.io/coreos/etcd', destination: ['my-registry.local.lan/repo/etcd'], tags: ['latest'], include: [], semver: undefined },
    ]);
  });

  it('selects the tags skopeo sync would', () => {
    const spec = parseSkopeoSync(SYNC, { destination: 'localhost:5000' });
    const pick = (repo: string, tags: string[]) =>
      selectTags(tags, spec.sources.find((s) => s.repository.repository === repo)!.selection).tags;
    expect(pick('busybox', ['latest', '1.36', 'musl'])).toEqual(['1.36', 'latest', 'musl']);
    expect(pick('redis', ['1.0', '2.0', '3.0'])).toEqual(['1.0', '2.0']);
    expect(pick('nginx', ['1.13.1-alpine-perl', '1.13.2-alpine-perl', '1.13.3-alpine-perl', '1.13.1'])).toEqual(['1.13.1-alpine-perl', '1.13.2-alpine-perl']);
    expect(pick('alpine', ['3.11.0', '3.12.0', '3.20', '4.0.0', '3.13-alpine', 'edge'])).toEqual(['3.12.0', '3.20']);
  });

  it('keeps the registry and full path with scoped', () => {
    expect(summary('docker.io:\n  images:\n    library/busybox: [latest]\n', { destination: 'mirror.local', scoped: true })[0]?.destination).toEqual([
      'mirror.local/docker.io/library/busybox',
    ]);
  });

  it('normalizes Docker Hub names as skopeo does', () => {
    expect(summary('docker.io:\n  images:\n    busybox: [latest]\n', { destination: 'mirror.local' })[0]).toMatchObject({
      source: 'docker.io/library/busybox',
      destination: ['mirror.local/busybox'],
    });
  });

  it.each([
    ['credentials', 'r.example.com:\n  credentials:\n    username: john\n    password: hunter2\n', 'sync.yaml:2: ["r.example.com"].credentials: credentials in the file are not supported', 'gantry login r.example.com'],
    ['tls-verify false', 'r.example.com:\n  tls-verify: false\n', 'sync.yaml:2: ["r.example.com"].tls-verify: tls-verify: false is not supported', '--insecure'],
    ['cert-dir', 'r.example.com:\n  cert-dir: /certs\n', 'sync.yaml:2: ["r.example.com"].cert-dir: cert-dir is not supported', 'certs.d/r.example.com'],
    ['a digest', 'r.example.com:\n  images:\n    redis:\n      - "1.0"\n      - sha256:0000000000000000000000000000000011111111111111111111111111111111\n', 'sync.yaml:5: ["r.example.com"].images.redis[1]: digest references are not supported', 'tag'],
  ])('refuses %s with a hint', (_name, text, message, hint) => {
    const err = errorOf(text);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message.startsWith(message), err.message).toBe(true);
    expect(err.hint).toContain(hint);
    expect(err.message).not.toContain('hunter2');
  });

  it.each([
    ['an unknown key', 'r.example.com:\n  imagez: {}\n', 'sync.yaml:2: ["r.example.com"].imagez: is not a skopeo sync key'],
    ['a Go-only regex', 'r.example.com:\n  images-by-tag-regex:\n    nginx: (?P<v>1)\n', 'sync.yaml:3: ["r.example.com"].images-by-tag-regex.nginx: invalid regular expression'],
    ['a bad constraint', 'r.example.com:\n  images-by-semver:\n    alpine: ">=> 1"\n', 'sync.yaml:3: ["r.example.com"].images-by-semver.alpine: invalid semver range'],
    ['tags that are not a list', 'r.example.com:\n  images:\n    redis: latest\n', 'sync.yaml:3: ["r.example.com"].images.redis: must be a list of tags'],
    ['a registry that is not a mapping', 'r.example.com: [1]\n', 'sync.yaml:1: ["r.example.com"]: must be a mapping'],
    ['an empty file', '', 'sync.yaml: (root): must be a mapping'],
  ])('reports %s with its line', (_name, text, message) => {
    const err = errorOf(text);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message.startsWith(message), err.message).toBe(true);
  });

  it('rejects a destination that is not HOST[/PATH]', () => {
    expect(() => parseSkopeoSync('r.example.com:\n  images:\n    a: []\n', { destination: 'ftp://x' })).toThrow(
      expect.objectContaining({ code: 'REFERENCE_INVALID' }),
    );
  });
});
