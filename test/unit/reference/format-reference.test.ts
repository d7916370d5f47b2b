import { describe, expect, it } from 'vitest';
import { isGantryError } from '../../../src/errors/index.js';
import {
  familiarName,
  familiarReference,
  formatReference,
  parseReference,
  referenceOrDefaultTag,
  repositoryOf,
  withDigest,
  withTag,
  withoutTagOrDigest,
} from '../../../src/reference/index.js';

const SHA = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('formatReference and familiarReference', () => {
  it.each([
    ['alpine:3.20', 'docker.io/library/alpine:3.20', 'alpine:3.20'],
    ['user/app', 'docker.io/user/app', 'user/app'],
    ['ghcr.io/o/a:1', 'ghcr.io/o/a:1', 'ghcr.io/o/a:1'],
    [`alpine:3.20@${SHA}`, `docker.io/library/alpine:3.20@${SHA}`, `alpine:3.20@${SHA}`],
    [`index.docker.io/library/alpine@${SHA}`, `docker.io/library/alpine@${SHA}`, `alpine@${SHA}`],
    ['docker.io/library/a/b', 'docker.io/library/a/b', 'library/a/b'],
    ['localhost/app', 'localhost/app', 'localhost/app'],
    ['[::1]:5000/app:dev', '[::1]:5000/app:dev', '[::1]:5000/app:dev'],
    // Unlike docker's FamiliarString, a Docker Hub namespace that would read as a host keeps docker.io/.
    ['docker.io/a.b/c', 'docker.io/a.b/c', 'docker.io/a.b/c'],
    ['docker.io/localhost/app:1', 'docker.io/localhost/app:1', 'docker.io/localhost/app:1'],
    ['registry-1.docker.io/library/alpine', 'registry-1.docker.io/library/alpine', 'registry-1.docker.io/library/alpine'],
  ])('%s formats as %s and familiarizes as %s', (input, canonical, familiar) => {
    const ref = parseReference(input);
    expect(formatReference(ref)).toBe(canonical);
    expect(familiarReference(ref)).toBe(familiar);
  });

  it('names the repository without tag or digest', () => {
    const ref = parseReference(`alpine:3.20@${SHA}`);
    expect(repositoryOf(ref)).toBe('docker.io/library/alpine');
    expect(familiarName(ref)).toBe('alpine');
  });

  it('returns frozen references without absent fields', () => {
    const ref = parseReference('alpine');
    expect(Object.isFrozen(ref)).toBe(true);
    expect(Object.keys(ref)).toEqual(['registry', 'repository']);
  });
});

describe('reference helpers', () => {
  it('withTag sets or replaces the tag and keeps the digest (docker WithTag)', () => {
    expect(formatReference(withTag(parseReference('test.com/foo'), 'tag'))).toBe('test.com/foo:tag');
    expect(familiarReference(withTag(parseReference('foo'), 'tag2'))).toBe('foo:tag2');
    expect(formatReference(withTag(parseReference('test.com:8000/foo:old'), 'TAG5'))).toBe('test.com:8000/foo:TAG5');
    expect(formatReference(withTag(parseReference(`test.com:8000/foo@${SHA}`), 'TAG5'))).toBe(`test.com:8000/foo:TAG5@${SHA}`);
  });

  it('withDigest sets the digest and keeps the tag (docker WithDigest)', () => {
    expect(formatReference(withDigest(parseReference('test.com/foo'), SHA))).toBe(`test.com/foo@${SHA}`);
    expect(familiarReference(withDigest(parseReference('foo'), SHA))).toBe(`foo@${SHA}`);
    expect(formatReference(withDigest(parseReference('test.com:8000/foo:latest'), SHA))).toBe(`test.com:8000/foo:latest@${SHA}`);
  });

  it('withTag and withDigest refuse invalid values (docker TestInvalidReferenceComponents)', () => {
    const ref = parseReference('busybox');
    expect(() => withTag(ref, '-foo')).toThrow(expect.objectContaining({ code: 'REFERENCE_INVALID' }));
    expect(() => withTag(ref, 'x'.repeat(129))).toThrow(expect.objectContaining({ code: 'REFERENCE_INVALID' }));
    expect(() => withDigest(ref, 'foo')).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
    // Docker's regexp takes any 32+ hex digits; gantry holds sha256 to its 64.
    let caught: unknown;
    try {
      withDigest(ref, 'sha256:1234567890098765432112345667890098765');
    } catch (err) {
      caught = err;
    }
    expect(isGantryError(caught, 'DIGEST_INVALID')).toBe(true);
  });

  it('withoutTagOrDigest keeps only the repository', () => {
    expect(withoutTagOrDigest(parseReference(`ghcr.io/o/a:1@${SHA}`))).toEqual({ registry: 'ghcr.io', repository: 'o/a' });
  });

  it('referenceOrDefaultTag adds latest only when there is neither tag nor digest', () => {
    expect(referenceOrDefaultTag(parseReference('alpine')).tag).toBe('latest');
    expect(referenceOrDefaultTag(parseReference('alpine:3')).tag).toBe('3');
    expect(referenceOrDefaultTag(parseReference(`alpine@${SHA}`))).toEqual({ registry: 'docker.io', repository: 'library/alpine', digest: SHA });
  });
});
