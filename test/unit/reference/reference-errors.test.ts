import { describe, expect, it } from 'vitest';
import { GantryError, isGantryError } from '../../../src/errors/index.js';
import { parseReference, parseRepository } from '../../../src/reference/index.js';

function errorOf(run: () => unknown): GantryError {
  try {
    run();
  } catch (err) {
    if (isGantryError(err)) return err;
    throw err;
  }
  throw new Error('expected an error');
}

const SHA = `sha256:${'a'.repeat(64)}`;

describe('parseReference errors', () => {
  it.each([
    ['', 0, 'reference is empty'],
    [':justtag', 0, 'repository name is missing'],
    [`@${SHA}`, 0, 'repository name is missing'],
    ['a'.repeat(64).replace(/a/g, 'b'), 0, 'cannot specify 64-byte hexadecimal strings'],
    ['Uppercase:tag', 0, 'repository name must be lowercase'],
    ['docker/Docker', 7, 'repository name must be lowercase'],
    ['test:5000/Uppercase/lowercase:tag', 10, 'repository name must be lowercase'],
    ['-docker', 0, 'must start with a lowercase letter or digit'],
    ['a-', 1, 'must not end with a separator'],
    ['docker/dock..er', 12, 'after a separator'],
    ['docker/a___b', 10, 'after a separator'],
    ['docker/____', 7, 'must start with a lowercase letter or digit'],
    ['docker/ab$c', 9, 'invalid character "$" in repository name'],
    ['docker///docker', 7, 'empty path component'],
    ['docker/', 7, 'empty path component'],
    ['dock..er/docker', 5, 'registry host has an empty component'],
    ['-docker.io/docker', 0, "must not start with '-'"],
    ['docker-.io/docker', 6, "must not end with '-'"],
    ['bad_hostname.com:8080/myapp', 3, 'invalid character "_" in registry host'],
    ['foo.com:http/bar', 8, 'port must be a number'],
    ['foo.com:/bar', 8, 'port is empty'],
    ['foo.com:65536/bar', 8, 'out of range'],
    ['[fe80::1%eth0]:5000/repo', 8, 'invalid character "%" in IPv6 address'],
    ['[fd00123123123]:5000/repo', 1, 'invalid IPv6 address'],
    ['[::1/repo', 4, "missing its closing ']'"],
    ['[::1]5000/repo', 5, "expected ':port'"],
    ['foo:bad~tag', 7, 'invalid character "~" in tag'],
    ['foo:-tag', 4, 'a tag must start with a letter, digit or'],
    ['foo:', 4, 'tag is empty'],
    [`foo:${'t'.repeat(129)}`, 132, 'tag must not be more than 128 characters'],
    ['foo@', 4, 'digest is empty'],
    ['foo@sha256:abc', 14, 'sha256 digest must have 64 hex characters, not 3'],
    [`foo@sha256:${'A'.repeat(64)}`, 11, 'must be lowercase hex'],
    [`foo@SHA256:${'a'.repeat(64)}`, 4, 'algorithm must be lowercase'],
    ['foo@sha256', 10, "missing ':'"],
    ['foo:tag@sha256:a@b', 16, 'invalid character "@" in encoded value'],
    // The repository path is limited (docker counts it, with library/ added, without the host).
    [`domain/${'a'.repeat(256)}`, 255, 'repository name must not be more than 255 characters (it has 263)'],
    ['a'.repeat(250), 247, 'repository name must not be more than 255 characters (it has 258)'],
    [`example.com/${'a'.repeat(256)}`, 267, 'it has 256'],
  ])('%j fails at %i: %s', (input, position, message) => {
    const err = errorOf(() => parseReference(input));
    expect(err.code).toBe('REFERENCE_INVALID');
    expect(err.message).toContain(message);
    expect(err.details).toEqual({ input, position });
    expect(err.hint).toBeTruthy();
  });

  it('quotes the input in the message and keeps it on one line', () => {
    const err = errorOf(() => parseReference('foo\nbar'));
    expect(err.message).toBe('invalid reference "foo\\nbar": invalid character "\\n" in repository name');
    expect(err.details).toEqual({ input: 'foo\nbar', position: 3 });
  });

  it('cuts very long input short in the message but keeps it whole in details', () => {
    const input = 'x'.repeat(500);
    const err = errorOf(() => parseReference(input));
    expect(err.message.length).toBeLessThan(250);
    expect(err.details).toEqual({ input, position: 255 - 'library/'.length });
  });

  it('keeps the digest error as the cause', () => {
    const err = errorOf(() => parseReference('foo@sha256:zz'));
    expect(isGantryError(err.cause, 'DIGEST_INVALID')).toBe(true);
  });

  it('explains that an uppercase first component is read as a host', () => {
    const err = errorOf(() => parseReference('MY_ORG/app'));
    expect(err.details).toEqual({ input: 'MY_ORG/app', position: 2 });
    expect(err.hint).toContain('read as a registry host');
  });

  it('suggests dropping a URL scheme', () => {
    const err = errorOf(() => parseReference('https://ghcr.io/org/app'));
    expect(err.message).toContain('port is empty');
    expect(err.hint).toContain('Drop the scheme');
  });

  it('explains that a bracketed host needs a repository', () => {
    const err = errorOf(() => parseReference('[::1]:5000'));
    expect(err.details).toEqual({ input: '[::1]:5000', position: 0 });
    expect(err.hint).toContain('followed by /REPOSITORY');
  });

  it.each(['user:s3cr3t@ghcr.io/org/app', 'https://user:s3cr3t@ghcr.io/org/app:1'])('never echoes credentials in %s', (input) => {
    const err = errorOf(() => parseReference(input));
    expect(err.code).toBe('REFERENCE_INVALID');
    expect(JSON.stringify(err.toJSON())).not.toContain('s3cr3t');
    expect(err.message).not.toContain('s3cr3t');
    expect(err.hint).toContain('gantry login');
  });
});

describe('parseRepository', () => {
  it('normalizes a bare repository name', () => {
    expect(parseRepository('alpine')).toEqual({ registry: 'docker.io', repository: 'library/alpine' });
    expect(parseRepository('localhost:5000/team/app')).toEqual({ registry: 'localhost:5000', repository: 'team/app' });
  });

  it.each([
    ['alpine:3.20', 6],
    [`alpine@${SHA}`, 6],
    [`ghcr.io/o/a:1@${SHA}`, 11],
    // Without a '/', host:port reads as name:tag, as in docker.
    ['localhost:5000', 9],
  ])('rejects %s, pointing at the tag or digest (%i)', (input, position) => {
    const err = errorOf(() => parseRepository(input));
    expect(err.code).toBe('REFERENCE_INVALID');
    expect(err.message).toContain('expected a repository without a tag or digest');
    expect(err.details).toEqual({ input, position });
  });

  it('rejects an invalid name like parseReference does', () => {
    expect(errorOf(() => parseRepository('Alpine')).message).toContain('repository name must be lowercase');
  });
});
