import { describe, expect, it } from 'vitest';
import { DOCKER_HUB_SERVER, findKey, keyMatchesHost, registryHost, serverAddress } from '../../../src/credentials/registry-key.js';

describe('registryHost', () => {
  it.each([
    ['ghcr.io', 'ghcr.io'],
    ['https://ghcr.io', 'ghcr.io'],
    ['http://ghcr.io/v2/', 'ghcr.io'],
    ['https://GHCR.io/v1/', 'ghcr.io'],
    ['localhost:5000', 'localhost:5000'],
    ['http://localhost:5000/v2/', 'localhost:5000'],
    ['https://user@registry.example.com:8443/path', 'registry.example.com:8443'],
    ['[::1]:5000', '[::1]:5000'],
    ['http://[::1]:5000/v2/', '[::1]:5000'],
  ])('reduces %s to %s', (address, host) => {
    expect(registryHost(address)).toBe(host);
  });

  it.each(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/', 'https://registry-1.docker.io/v2/'])(
    'folds Docker Hub alias %s into docker.io',
    (address) => {
      expect(registryHost(address)).toBe('docker.io');
    },
  );

  it('rejects an address naming no host as a programmer error', () => {
    expect(() => registryHost('https://')).toThrow(/not a registry address/);
  });
});

describe('serverAddress', () => {
  it("gives docker's Hub URL for every Hub alias and the bare host otherwise", () => {
    expect(serverAddress('docker.io')).toBe(DOCKER_HUB_SERVER);
    expect(serverAddress('registry-1.docker.io')).toBe('https://index.docker.io/v1/');
    expect(serverAddress('https://ghcr.io/')).toBe('ghcr.io');
    expect(serverAddress('localhost:5000')).toBe('localhost:5000');
  });
});

describe('keyMatchesHost', () => {
  it('compares hosts, not spellings, and keeps ports distinct', () => {
    expect(keyMatchesHost('https://ghcr.io', 'ghcr.io')).toBe(true);
    expect(keyMatchesHost('ghcr.io.evil.example', 'ghcr.io')).toBe(false);
    expect(keyMatchesHost('evil.example/ghcr.io', 'ghcr.io')).toBe(false);
    expect(keyMatchesHost('localhost:5001', 'localhost:5000')).toBe(false);
    expect(keyMatchesHost('localhost', 'localhost:5000')).toBe(false);
  });

  it('matches nothing for a key naming no host', () => {
    expect(keyMatchesHost('', 'ghcr.io')).toBe(false);
    expect(keyMatchesHost('https://', 'ghcr.io')).toBe(false);
  });
});

describe('findKey', () => {
  it("prefers docker's exact key over another spelling of the same host", () => {
    expect(findKey(['https://ghcr.io', 'ghcr.io'], 'ghcr.io')).toBe('ghcr.io');
    expect(findKey(['docker.io', 'https://index.docker.io/v1/'], 'docker.io')).toBe('https://index.docker.io/v1/');
  });

  it('falls back to the first key in file order naming the host', () => {
    expect(findKey(['quay.io', 'http://ghcr.io/v2/', 'https://ghcr.io'], 'ghcr.io')).toBe('http://ghcr.io/v2/');
  });

  it('finds nothing for an unknown host', () => {
    expect(findKey(['quay.io', 'https://index.docker.io/v1/'], 'ghcr.io')).toBeUndefined();
  });
});
