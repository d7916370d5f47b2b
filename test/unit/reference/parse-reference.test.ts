import { describe, expect, it } from 'vitest';
import { isGantryError } from '../../../src/errors/index.js';
import {
  familiarName,
  familiarReference,
  formatReference,
  parseReference,
  referenceOrDefaultTag,
  type Reference,
} from '../../../src/reference/index.js';

// The cases below are ported from the test tables of github.com/distribution/reference
// (reference_test.go, normalize_test.go, regexp_test.go). Those tables exercise several
// functions (Parse, ParseNormalizedNamed, the raw regexps); every case here goes through
// parseReference, which is ParseNormalizedNamed, so expectations are the normalized result.

const F64 = 'f'.repeat(64);
const SHA = `sha256:${F64}`;
const BE = 'sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912';

function ref(registry: string, repository: string, extra: { tag?: string; digest?: string } = {}): Reference {
  return { registry, repository, ...extra };
}

function expectInvalid(input: string): void {
  let caught: unknown;
  try {
    parseReference(input);
  } catch (err) {
    caught = err;
  }
  expect(isGantryError(caught, 'REFERENCE_INVALID'), `expected REFERENCE_INVALID for ${JSON.stringify(input)}`).toBe(true);
}

describe('parseReference: docker reference_test.go TestReferenceParse', () => {
  const valid: Array<[string, Reference]> = [
    ['test_com', ref('docker.io', 'library/test_com')],
    ['test.com:tag', ref('docker.io', 'library/test.com', { tag: 'tag' })],
    ['test.com:5000', ref('docker.io', 'library/test.com', { tag: '5000' })],
    ['test.com/repo:tag', ref('test.com', 'repo', { tag: 'tag' })],
    ['test:5000/repo', ref('test:5000', 'repo')],
    ['test:5000/repo:tag', ref('test:5000', 'repo', { tag: 'tag' })],
    [`test:5000/repo@${SHA}`, ref('test:5000', 'repo', { digest: SHA })],
    [`test:5000/repo:tag@${SHA}`, ref('test:5000', 'repo', { tag: 'tag', digest: SHA })],
    ['lowercase:Uppercase', ref('docker.io', 'library/lowercase', { tag: 'Uppercase' })],
    // Under normalization the first "a" is a Docker Hub namespace, so the path is exactly 255 characters.
    [`${'a/'.repeat(127)}a:tag-puts-this-over-max`, ref('docker.io', `${'a/'.repeat(127)}a`, { tag: 'tag-puts-this-over-max' })],
    ['sub-dom1.foo.com/bar/baz/quux', ref('sub-dom1.foo.com', 'bar/baz/quux')],
    ['sub-dom1.foo.com/bar/baz/quux:some-long-tag', ref('sub-dom1.foo.com', 'bar/baz/quux', { tag: 'some-long-tag' })],
    ['b.gcr.io/test.example.com/my-app:test.example.com', ref('b.gcr.io', 'test.example.com/my-app', { tag: 'test.example.com' })],
    ['xn--n3h.com/myimage:xn--n3h.com', ref('xn--n3h.com', 'myimage', { tag: 'xn--n3h.com' })],
    [`xn--7o8h.com/myimage:xn--7o8h.com@${SHA}`, ref('xn--7o8h.com', 'myimage', { tag: 'xn--7o8h.com', digest: SHA })],
    ['foo_bar.com:8080', ref('docker.io', 'library/foo_bar.com', { tag: '8080' })],
    ['foo/foo_bar.com:8080', ref('docker.io', 'foo/foo_bar.com', { tag: '8080' })],
    ['192.168.1.1', ref('docker.io', 'library/192.168.1.1')],
    ['192.168.1.1:tag', ref('docker.io', 'library/192.168.1.1', { tag: 'tag' })],
    ['192.168.1.1:5000', ref('docker.io', 'library/192.168.1.1', { tag: '5000' })],
    ['192.168.1.1/repo', ref('192.168.1.1', 'repo')],
    ['192.168.1.1:5000/repo', ref('192.168.1.1:5000', 'repo')],
    ['192.168.1.1:5000/repo:5050', ref('192.168.1.1:5000', 'repo', { tag: '5050' })],
    ['[2001:db8::1]/repo', ref('[2001:db8::1]', 'repo')],
    ['[2001:db8:1:2:3:4:5:6]/repo:tag', ref('[2001:db8:1:2:3:4:5:6]', 'repo', { tag: 'tag' })],
    ['[2001:db8::1]:5000/repo', ref('[2001:db8::1]:5000', 'repo')],
    ['[2001:db8::1]:5000/repo:tag', ref('[2001:db8::1]:5000', 'repo', { tag: 'tag' })],
    [`[2001:db8::1]:5000/repo@${SHA}`, ref('[2001:db8::1]:5000', 'repo', { digest: SHA })],
    [`[2001:db8::1]:5000/repo:tag@${SHA}`, ref('[2001:db8::1]:5000', 'repo', { tag: 'tag', digest: SHA })],
    ['[2001:db8::]:5000/repo', ref('[2001:db8::]:5000', 'repo')],
    ['[::1]:5000/repo', ref('[::1]:5000', 'repo')],
    [`example.com/${'a'.repeat(255)}:tag`, ref('example.com', 'a'.repeat(255), { tag: 'tag' })],
    // docker's own binary registers sha512 (its test binary does not, hence ErrDigestUnsupported there).
    [`validname@sha512:${'f'.repeat(128)}`, ref('docker.io', 'library/validname', { digest: `sha512:${'f'.repeat(128)}` })],
    // Deliberately more permissive than docker (which answers ErrDigestUnsupported): unregistered
    // algorithms that fit the OCI image-spec grammar are accepted, as descriptor.md asks.
    [`validname@invaliddigest:${F64}`, ref('docker.io', 'library/validname', { digest: `invaliddigest:${F64}` })],
  ];
  it.each(valid)('parses %s', (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  it.each([
    '',
    ':justtag',
    `@${SHA}`,
    `repo@sha256:${'f'.repeat(34)}`,
    'Uppercase:tag',
    'test:5000/Uppercase/lowercase:tag',
    `domain/${'a'.repeat(256)}:tag`,
    'aa/asdf$$^/aa',
    '[2001:db8::1]',
    '[2001:db8::1]:5000',
    '[2001:db8::1]:tag',
    '[fe80::1%eth0]:5000/repo',
    '[fe80::1%@invalidzone]:5000/repo',
  ])('rejects %s', (input) => expectInvalid(input));
});

describe('parseReference: docker normalize_test.go TestValidateReferenceName', () => {
  it.each([
    'docker/docker',
    'library/debian',
    'debian',
    'localhost/library/debian',
    'localhost/debian',
    'LOCALDOMAIN/library/debian',
    'LOCALDOMAIN/debian',
    'docker.io/docker/docker',
    'docker.io/library/debian',
    'docker.io/debian',
    'index.docker.io/docker/docker',
    'index.docker.io/library/debian',
    'index.docker.io/debian',
    '127.0.0.1:5000/docker/docker',
    '127.0.0.1:5000/library/debian',
    '127.0.0.1:5000/debian',
    '192.168.0.1',
    '192.168.0.1:80',
    '192.168.0.1:8/debian',
    '192.168.0.2:25000/debian',
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    '[fc00::1]:5000/docker',
    '[fc00::1]:5000/docker/docker',
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    'Docker/docker',
    'DOCKER/docker',
  ])('accepts %s', (input) => {
    expect(() => parseReference(input)).not.toThrow();
  });

  it.each([
    'https://github.com/docker/docker',
    'docker/Docker',
    '-docker',
    '-docker/docker',
    '-docker.io/docker/docker',
    'docker///docker',
    'docker.io/docker/Docker',
    'docker.io/docker///docker',
    '[fc00::1]',
    '[fc00::1]:5000',
    'fc00::1:5000/debian',
    '[fe80::1%eth0]:5000/debian',
    '[2001:db8:3:4::192.0.2.33]:5000/debian',
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
  ])('rejects %s', (input) => expectInvalid(input));
});

describe('parseReference: docker normalize_test.go TestValidateRemoteName', () => {
  it.each(['docker/docker', 'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', 'docker-rules/docker', 'docker---rules/docker', 'doc/docker', 'd/docker', 'jess/t', 'dock__er/docker'])(
    'accepts %s',
    (input) => {
      expect(() => parseReference(input)).not.toThrow();
    },
  );

  it.each([
    'docker/Docker',
    'docker///docker',
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    '-docker/docker',
    'docker-/docker',
    '-docker-/docker',
    '____/____',
    '_docker/_docker',
    'dock..er/docker',
    'dock_.er/docker',
    'dock-.er/docker',
    'docker/',
    `${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4)}/docker`,
  ])('rejects %s', (input) => expectInvalid(input));
});

describe('parseReference: docker normalize_test.go TestParseRepositoryInfo', () => {
  const cases: Array<{ remote: string; familiar: string; full: string; ambiguous?: string; domain: string }> = [
    { remote: 'fooo', familiar: 'localhost/fooo', full: 'localhost/fooo', domain: 'localhost' },
    { remote: 'fooo/bar', familiar: 'localhost/fooo/bar', full: 'localhost/fooo/bar', domain: 'localhost' },
    { remote: 'fooo', familiar: 'LOCALDOMAIN/fooo', full: 'LOCALDOMAIN/fooo', domain: 'LOCALDOMAIN' },
    { remote: 'fooo/bar', familiar: 'LOCALDOMAIN/fooo/bar', full: 'LOCALDOMAIN/fooo/bar', domain: 'LOCALDOMAIN' },
    { remote: 'fooo/bar', familiar: 'fooo/bar', full: 'docker.io/fooo/bar', ambiguous: 'index.docker.io/fooo/bar', domain: 'docker.io' },
    { remote: 'library/ubuntu', familiar: 'ubuntu', full: 'docker.io/library/ubuntu', ambiguous: 'library/ubuntu', domain: 'docker.io' },
    { remote: 'nonlibrary/ubuntu', familiar: 'nonlibrary/ubuntu', full: 'docker.io/nonlibrary/ubuntu', domain: 'docker.io' },
    { remote: 'other/library', familiar: 'other/library', full: 'docker.io/other/library', domain: 'docker.io' },
    { remote: 'private/moonbase', familiar: '127.0.0.1:8000/private/moonbase', full: '127.0.0.1:8000/private/moonbase', domain: '127.0.0.1:8000' },
    { remote: 'privatebase', familiar: '127.0.0.1:8000/privatebase', full: '127.0.0.1:8000/privatebase', domain: '127.0.0.1:8000' },
    { remote: 'private/moonbase', familiar: 'example.com/private/moonbase', full: 'example.com/private/moonbase', domain: 'example.com' },
    { remote: 'privatebase', familiar: 'example.com/privatebase', full: 'example.com/privatebase', domain: 'example.com' },
    { remote: 'private/moonbase', familiar: 'example.com:8000/private/moonbase', full: 'example.com:8000/private/moonbase', domain: 'example.com:8000' },
    { remote: 'privatebasee', familiar: 'example.com:8000/privatebasee', full: 'example.com:8000/privatebasee', domain: 'example.com:8000' },
    {
      remote: 'library/ubuntu-12.04-base',
      familiar: 'ubuntu-12.04-base',
      full: 'docker.io/library/ubuntu-12.04-base',
      ambiguous: 'index.docker.io/library/ubuntu-12.04-base',
      domain: 'docker.io',
    },
    { remote: 'library/foo', familiar: 'foo', full: 'docker.io/library/foo', ambiguous: 'docker.io/foo', domain: 'docker.io' },
    { remote: 'library/foo/bar', familiar: 'library/foo/bar', full: 'docker.io/library/foo/bar', domain: 'docker.io' },
    { remote: 'store/foo/bar', familiar: 'store/foo/bar', full: 'docker.io/store/foo/bar', domain: 'docker.io' },
    { remote: 'bar', familiar: 'Foo/bar', full: 'Foo/bar', domain: 'Foo' },
    { remote: 'bar', familiar: 'FOO/bar', full: 'FOO/bar', domain: 'FOO' },
  ];
  const rows = cases.flatMap((c) => [c.familiar, c.full, ...(c.ambiguous ? [c.ambiguous] : [])].map((input) => ({ input, ...c })));
  it.each(rows)('normalizes $input', ({ input, remote, familiar, full, domain }) => {
    const parsed = parseReference(input);
    expect(parsed.registry).toBe(domain);
    expect(parsed.repository).toBe(remote);
    expect(formatReference(parsed)).toBe(full);
    expect(familiarName(parsed)).toBe(familiar);
  });
});

describe('parseReference: docker normalize_test.go TestParseReferenceWithTagAndDigest', () => {
  it('keeps both tag and digest, and familiarizes back to the input', () => {
    const short = 'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';
    const parsed = parseReference(short);
    expect(parsed.tag).toBe('latest');
    expect(parsed.digest).toBe('sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa');
    expect(formatReference(parsed)).toBe(`docker.io/library/${short}`);
    expect(familiarReference(parsed)).toBe(short);
  });
});

describe('parseReference: docker normalize_test.go TestParseAnyReference (named cases)', () => {
  const D = 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
  it.each([
    ['redis', 'docker.io/library/redis'],
    ['redis:latest', 'docker.io/library/redis:latest'],
    ['docker.io/library/redis:latest', 'docker.io/library/redis:latest'],
    [`redis@${D}`, `docker.io/library/redis@${D}`],
    [`docker.io/library/redis@${D}`, `docker.io/library/redis@${D}`],
    ['dmcgowan/myapp', 'docker.io/dmcgowan/myapp'],
    ['dmcgowan/myapp:latest', 'docker.io/dmcgowan/myapp:latest'],
    ['docker.io/mcgowan/myapp:latest', 'docker.io/mcgowan/myapp:latest'],
    [`dmcgowan/myapp@${D}`, `docker.io/dmcgowan/myapp@${D}`],
    [`docker.io/dmcgowan/myapp@${D}`, `docker.io/dmcgowan/myapp@${D}`],
    ['dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9', 'docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9'],
    ['dbcc1', 'docker.io/library/dbcc1'],
    // ParseNormalizedNamed reads a bare digest as repository "sha256" with a 64-character tag.
    [D, `docker.io/library/${D}`],
  ])('normalizes %s to %s', (input, canonical) => {
    expect(formatReference(parseReference(input))).toBe(canonical);
  });
});

describe('parseReference: docker normalize_test.go TestNormalizedSplitHostname', () => {
  it.each([
    ['test.com/foo', 'test.com', 'foo'],
    ['test_com/foo', 'docker.io', 'test_com/foo'],
    ['docker/migrator', 'docker.io', 'docker/migrator'],
    ['test.com:8080/foo', 'test.com:8080', 'foo'],
    ['test-com:8080/foo', 'test-com:8080', 'foo'],
    ['foo', 'docker.io', 'library/foo'],
    ['xn--n3h.com/foo', 'xn--n3h.com', 'foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
    ['docker.io/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar'],
  ])('splits %s into %s and %s', (input, registry, repository) => {
    expect(parseReference(input)).toEqual(ref(registry, repository));
  });
});

describe('referenceOrDefaultTag: docker normalize_test.go TestParseDockerRef', () => {
  const D = 'sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582';
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:latest', 'docker.io/library/busybox:latest'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox:latest', 'docker.io/library/busybox:latest'],
    ['library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['gcr.io/library/busybox', 'gcr.io/library/busybox:latest'],
    // ParseDockerRef drops the tag here; gantry keeps name:tag@digest whole (the digest decides what is pulled).
    [`gcr.io/library/busybox:latest@${D}`, `gcr.io/library/busybox:latest@${D}`],
  ])('resolves %s to %s', (input, canonical) => {
    expect(formatReference(referenceOrDefaultTag(parseReference(input)))).toBe(canonical);
  });
});

describe('formatReference: docker reference_test.go TestParseNamed (canonical forms)', () => {
  it.each([
    ['test.com/foo', true],
    ['test:8080/foo', true],
    ['docker.io/library/foo', true],
    ['test_com/foo', false],
    ['test.com', false],
    ['foo', false],
    ['library/foo', false],
    ['docker.io/foo', false],
  ])('%s is canonical: %s', (input, canonical) => {
    expect(formatReference(parseReference(input)) === input).toBe(canonical);
  });
});

describe('parseReference: docker regexp_test.go TestFullNameRegexp', () => {
  it.each([
    ['short', 'docker.io/library/short'],
    ['simple/name', 'docker.io/simple/name'],
    ['library/ubuntu', 'docker.io/library/ubuntu'],
    ['docker/stevvooe/app', 'docker.io/docker/stevvooe/app'],
    ['aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb', 'docker.io/aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb'],
    ['aa/aa/bb/bb/bb', 'docker.io/aa/aa/bb/bb/bb'],
    ['a/a/a/a', 'docker.io/a/a/a/a'],
    ['a', 'docker.io/library/a'],
    ['a/aa', 'docker.io/a/aa'],
    ['a/aa/a', 'docker.io/a/aa/a'],
    ['foo.com', 'docker.io/library/foo.com'],
    ['foo.com:8080/bar', 'foo.com:8080/bar'],
    ['foo.com/bar', 'foo.com/bar'],
    ['foo.com/bar/baz', 'foo.com/bar/baz'],
    ['localhost:8080/bar', 'localhost:8080/bar'],
    ['sub-dom1.foo.com/bar/baz/quux', 'sub-dom1.foo.com/bar/baz/quux'],
    ['blog.foo.com/bar/baz', 'blog.foo.com/bar/baz'],
    ['aa-a/a', 'docker.io/aa-a/a'],
    ['foo_bar', 'docker.io/library/foo_bar'],
    ['foo_bar.com', 'docker.io/library/foo_bar.com'],
    // Not a name on its own (the regexp case), but a valid reference: name "foo_bar.com", tag "8080".
    ['foo_bar.com:8080', 'docker.io/library/foo_bar.com:8080'],
    ['foo.com/foo_bar', 'foo.com/foo_bar'],
    ['b.gcr.io/test.example.com/my-app', 'b.gcr.io/test.example.com/my-app'],
    ['xn--n3h.com/myimage', 'xn--n3h.com/myimage'],
    ['xn--7o8h.com/myimage', 'xn--7o8h.com/myimage'],
    ['example.com/xn--7o8h.com/myimage', 'example.com/xn--7o8h.com/myimage'],
    ['example.com/some_separator__underscore/myimage', 'example.com/some_separator__underscore/myimage'],
    ['do__cker/docker', 'docker.io/do__cker/docker'],
    ['registry.io/foo/project--id.module--name.ver---sion--name', 'registry.io/foo/project--id.module--name.ver---sion--name'],
    ['Asdf.com/foo/bar', 'Asdf.com/foo/bar'],
  ])('normalizes %s to %s', (input, canonical) => {
    expect(formatReference(parseReference(input))).toBe(canonical);
  });

  it.each([
    '',
    'a/a/a/a/',
    'a//a/a',
    'foo.com/',
    'foo.com:http/bar',
    'a^a',
    'aa/asdf$$^/aa',
    'asdf$$^/aa',
    // The regexp alone matches this; as a Docker Hub path it is 257 characters, over the limit.
    `${'a/'.repeat(128)}a`,
    'a-/a/a/a',
    'foo.com/a-/a/a',
    '-foo/bar',
    'foo/bar-',
    'foo-/bar',
    'foo/-bar',
    '_foo/bar',
    'foo_bar.com:8080/app',
    '____/____',
    '_docker/_docker',
    'docker_/docker_',
    'example.com/__underscore/myimage',
    'example.com/..dots/myimage',
    'example.com/.dots/myimage',
    'example.com/nodouble..dots/myimage',
    'docker./docker',
    '.docker/docker',
    'docker-/docker',
    '-docker/docker',
    'do..cker/docker',
    'do__cker:8080/docker',
    'Foo/FarB',
  ])('rejects %s', (input) => expectInvalid(input));
});

describe('parseReference: docker regexp_test.go TestReferenceRegexp', () => {
  it.each([
    ['registry.com:8080/myapp:tag', ref('registry.com:8080', 'myapp', { tag: 'tag' })],
    [`registry.com:8080/myapp@${BE}`, ref('registry.com:8080', 'myapp', { digest: BE })],
    [`registry.com:8080/myapp:tag2@${BE}`, ref('registry.com:8080', 'myapp', { tag: 'tag2', digest: BE })],
    // Without a '/', "localhost" is a repository name and 8080 its tag.
    [`localhost:8080@${BE}`, ref('docker.io', 'library/localhost', { tag: '8080', digest: BE })],
    [`localhost:8080/name@${BE}`, ref('localhost:8080', 'name', { digest: BE })],
    [`localhost@${BE}`, ref('docker.io', 'library/localhost', { digest: BE })],
  ])('parses %s', (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  it.each([
    'registry.com:8080/myapp@sha256:badbadbadbad',
    'registry.com:8080/myapp:invalid~tag',
    'bad_hostname.com:8080/myapp:tag',
    `localhost:http/name@${BE}`,
    'registry.com:8080/myapp@bad',
    'registry.com:8080/myapp@2bad',
  ])('rejects %s', (input) => expectInvalid(input));
});

describe('parseReference: docker regexp_test.go TestIdentifierRegexp', () => {
  it('rejects a 64-character lowercase hex name, as docker does', () => {
    expect(() => parseReference('da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821')).toThrow(
      'invalid repository name (64 hex chars), cannot specify 64-byte hexadecimal strings',
    );
  });

  it('rejects the uppercase form as an uppercase repository name', () => {
    expect(() => parseReference('7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C')).toThrow('repository name must be lowercase');
  });

  it.each([
    'da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf',
    'da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf98218482',
  ])('accepts hex names of other lengths as Docker Hub official images: %s', (input) => {
    expect(parseReference(input)).toEqual(ref('docker.io', `library/${input}`));
  });
});
