import { describe, expect, it } from 'vitest';
import { GantryError, isGantryError } from '../../../src/errors/index.js';
import { isInsecureByDefault, parseRegistryHost, registryEndpoint } from '../../../src/reference/index.js';

function errorOf(run: () => unknown): GantryError {
  try {
    run();
  } catch (err) {
    if (isGantryError(err)) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('parseRegistryHost', () => {
  it.each([
    ['ghcr.io', 'ghcr.io'],
    ['localhost:5000', 'localhost:5000'],
    ['[::1]:5000', '[::1]:5000'],
    ['[::1]', '[::1]'],
    ['https://index.docker.io/v1/', 'docker.io'],
    ['http://host:5000', 'host:5000'],
    ['HTTPS://ghcr.io/token?x=1', 'ghcr.io'],
    ['docker.io', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['Registry-1.Docker.IO', 'docker.io'],
    ['ghcr.io/owner/repo', 'ghcr.io'],
    ['myregistry', 'myregistry'],
    ['Asdf.com', 'Asdf.com'],
  ])('reads %s as %s', (input, host) => {
    expect(parseRegistryHost(input)).toBe(host);
  });

  // Ported from docker regexp_test.go TestDomainRegexp.
  it.each([
    'test.com',
    'test.com:10304',
    'localhost',
    'localhost:8080',
    'a',
    'a.b',
    'ab.cd.com',
    'a-b.com',
    'ab.c-om',
    '0101.com',
    '001a.com',
    'b.gbc.io:443',
    'b.gbc.io',
    'xn--n3h.com',
    'Asdf.com',
    '192.168.1.1:7505',
    '[fd00:1:2::3]:7505',
    '[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:7505',
  ])('accepts the docker domain %s', (input) => {
    expect(parseRegistryHost(input)).toBe(input);
  });

  it.each([
    'test.com:http',
    '-ab.com',
    'ab-.com',
    'ab.-com',
    'ab.com-',
    '[fd00:1:2::3]75050',
    '[fd00:1:2::3]::75050',
    '[fd00:1:2::3%eth0]:75050',
    'fd00:1:2::3:75050',
    // Docker's regexp matches these and leaves them to fail later; no URL can hold them, so gantry refuses them here.
    '192.168.1.1:75050',
    '192.168.1.1:750050',
    '[fd00:1:2::3]:75050',
    '[fd00123123123]:75050',
    '[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505',
  ])('rejects the docker domain %s', (input) => {
    expect(errorOf(() => parseRegistryHost(input)).code).toBe('REFERENCE_INVALID');
  });

  it.each([
    ['', 0, 'registry host is empty'],
    ['https://', 8, 'registry host is empty'],
    ['ftp://ghcr.io', 0, 'unsupported scheme "ftp"'],
    ['https://ghcr.io:abc/v2', 16, 'port must be a number'],
    ['ghcr_io', 4, 'invalid character "_"'],
  ])('%j fails at %i: %s', (input, position, message) => {
    const err = errorOf(() => parseRegistryHost(input));
    expect(err.code).toBe('REFERENCE_INVALID');
    expect(err.message).toContain(message);
    expect(err.details).toEqual({ input, position });
  });

  it.each(['https://me:s3cr3t@ghcr.io/', 'me:s3cr3t@ghcr.io', 'http://tok@localhost:5000'])('refuses credentials in %s without echoing them', (input) => {
    const err = errorOf(() => parseRegistryHost(input));
    expect(err.message).toContain('must not contain credentials');
    const shown = JSON.stringify(err.toJSON());
    expect(shown).not.toContain('s3cr3t');
    expect(shown).not.toContain('tok@');
    expect(shown).toContain('[REDACTED]');
  });
});

describe('isInsecureByDefault', () => {
  it.each([
    'localhost',
    'localhost:5000',
    'LOCALHOST:5000',
    '127.0.0.1',
    '127.0.0.1:5000',
    '127.255.3.4:443',
    '[::1]',
    '[::1]:5000',
    '::1',
    '[0:0:0:0:0:0:0:1]:5000',
    '[::ffff:7f00:1]:5000',
  ])('%s is insecure by default', (host) => {
    expect(isInsecureByDefault(host)).toBe(true);
  });

  it.each([
    'ghcr.io',
    'docker.io',
    '128.0.0.1:5000',
    '10.0.0.1:5000',
    '127.0.0',
    '127.0.0.256',
    'localhost.example.com',
    '[::2]:5000',
    '[::ffff:a00:1]',
    '[fe80::1]',
    'not-a-host::',
    '',
  ])('%s is not', (host) => {
    expect(isInsecureByDefault(host)).toBe(false);
  });
});

describe('registryEndpoint', () => {
  it('sends Docker Hub traffic to registry-1.docker.io', () => {
    expect(registryEndpoint('docker.io')).toBe('registry-1.docker.io');
  });

  it.each(['ghcr.io', 'localhost:5000', '[::1]:5000', 'registry-1.docker.io'])('leaves %s alone', (host) => {
    expect(registryEndpoint(host)).toBe(host);
  });
});
