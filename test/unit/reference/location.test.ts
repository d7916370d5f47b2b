import { describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import { formatLocation, parseLocation } from '../../../src/reference/index.js';

const hub = (repository: string, tag?: string) => ({ registry: 'docker.io', repository, ...(tag ? { tag } : {}) });

describe('parseLocation', () => {
  it.each([
    ['alpine', { transport: 'registry', ref: hub('library/alpine') }],
    ['alpine:3.20', { transport: 'registry', ref: hub('library/alpine', '3.20') }],
    ['docker://alpine:3.20', { transport: 'registry', ref: hub('library/alpine', '3.20') }],
    ['localhost:5000/app:1', { transport: 'registry', ref: { registry: 'localhost:5000', repository: 'app', tag: '1' } }],
    ['docker:dind', { transport: 'registry', ref: hub('library/docker', 'dind') }],
    ['oci:./layout', { transport: 'oci', path: './layout' }],
    ['oci:/tmp/layout:v1', { transport: 'oci', path: '/tmp/layout', tag: 'v1' }],
    ['ocidir://out/app:v2', { transport: 'oci', path: 'out/app', tag: 'v2' }],
    ['ocidir://out/app', { transport: 'oci', path: 'out/app' }],
    ['oci-archive:img.tar:1.0', { transport: 'oci-archive', path: 'img.tar', tag: '1.0' }],
    ['docker-archive:/tmp/a.tar', { transport: 'docker-archive', path: '/tmp/a.tar' }],
    ['docker-archive:/tmp/a.tar:alpine:3.20', { transport: 'docker-archive', path: '/tmp/a.tar', ref: hub('library/alpine', '3.20') }],
    ['docker-archive:/tmp/a.tar:@0', { transport: 'docker-archive', path: '/tmp/a.tar', index: 0 }],
    ['docker-archive:images.tar:@12', { transport: 'docker-archive', path: 'images.tar', index: 12 }],
    ['docker-archive:images.tar:@007', { transport: 'docker-archive', path: 'images.tar', index: 7 }],
    ['local:alpine:3.20', { transport: 'local', ref: hub('library/alpine', '3.20') }],
  ])('%s', (input, expected) => {
    expect(parseLocation(input)).toEqual(expected);
  });

  it.each([
    'oci:',
    'oci::v1',
    'oci:dir:bad tag',
    'docker-archive:',
    'docker-archive::@1',
    'docker-archive:a.tar:@',
    'docker-archive:a.tar:@-1',
    'docker-archive:a.tar:@1.5',
    'docker-archive:a.tar:@x',
    'docker-archive:a.tar:@1:2',
    'docker-archive:a.tar:@9999999999999999',
    `docker-archive:a.tar:@sha256:${'a'.repeat(64)}`,
    'containers-storage:alpine',
    'dir:/tmp/x',
    'docker://Alpine',
  ])('rejects %s with REFERENCE_INVALID', (input) => {
    let err: unknown;
    try {
      parseLocation(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GantryError);
    expect((err as GantryError).code).toBe('REFERENCE_INVALID');
  });

  it('formats back to a location that parses to the same thing', () => {
    for (const input of ['alpine:3.20', 'oci:/tmp/l:v1', 'oci-archive:x.tar', 'docker-archive:a.tar:alpine:1', 'docker-archive:a.tar:@3', 'local:ghcr.io/o/a:1']) {
      const loc = parseLocation(input);
      expect(parseLocation(formatLocation(loc))).toEqual(loc);
    }
    expect(formatLocation(parseLocation('alpine'), { familiar: true })).toBe('alpine');
    expect(formatLocation(parseLocation('docker-archive:a.tar:@03'))).toBe('docker-archive:a.tar:@3');
  });

  it('says what @N means when it is not a number', () => {
    expect(() => parseLocation('docker-archive:a.tar:@first')).toThrow(
      expect.objectContaining({ code: 'REFERENCE_INVALID', hint: expect.stringContaining('counting from 0') }),
    );
  });
});
