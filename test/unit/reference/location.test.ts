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
    ['local:alpine:3.20', { transport: 'local', ref: hub('library/alpine', '3.20') }],
  ])('%s', (input, expected) => {
    expect(parseLocation(input)).toEqual(expected);
  });

  it.each(['oci:', 'oci::v1', 'oci:dir:bad tag', 'docker-archive:', 'containers-storage:alpine', 'dir:/tmp/x', 'docker://Alpine'])('rejects %s with REFERENCE_INVALID', (input) => {
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
    for (const input of ['alpine:3.20', 'oci:/tmp/l:v1', 'oci-archive:x.tar', 'docker-archive:a.tar:alpine:1', 'local:ghcr.io/o/a:1']) {
      const loc = parseLocation(input);
      expect(parseLocation(formatLocation(loc))).toEqual(loc);
    }
    expect(formatLocation(parseLocation('alpine'), { familiar: true })).toBe('alpine');
  });
});
