import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDigest } from '../../../src/digest/index.js';
import { isGantryError } from '../../../src/errors/index.js';
import { checkDescriptor, isValidDigest, isValidMediaType } from '../../../src/media/descriptor.js';

const SHA256 = `sha256:${'a'.repeat(64)}`;

describe('isValidDigest', () => {
  it.each([
    SHA256,
    `sha512:${'0123456789abcdef'.repeat(8)}`,
    'sha384:anything-goes_here=',
    'multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8',
  ])('accepts %s', (d) => {
    expect(isValidDigest(d)).toBe(true);
  });

  it.each([
    ['sha256 with upper-case hex', `sha256:${'A'.repeat(64)}`],
    ['sha256 too short', `sha256:${'a'.repeat(63)}`],
    ['sha256 too long', `sha256:${'a'.repeat(65)}`],
    ['sha512 with sha256 length', `sha512:${'a'.repeat(64)}`],
    ['blake3 not of its registered 64 hex', 'blake3:abc'],
    ['no algorithm', `:${'a'.repeat(64)}`],
    ['no colon', 'a'.repeat(64)],
    ['upper-case algorithm', `SHA256:${'a'.repeat(64)}`],
    ['separator at the end of the algorithm', `sha256+:${'a'.repeat(64)}`],
    ['empty encoding', 'sha256:'],
    ['not a string', 42],
  ])('rejects %s', (_label, d) => {
    expect(isValidDigest(d)).toBe(false);
  });

  it('agrees with parseDigest, the one digest grammar', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc
            .tuple(fc.constantFrom('sha256', 'sha512', 'blake3', 'sha384', 'x+y', 'Sha256', ''), fc.string({ unit: fc.constantFrom(...'0af9AF=_-.:'.split('')) }))
            .map(([algorithm, encoded]) => `${algorithm}:${encoded}`),
          fc.constantFrom('sha256', 'sha512', 'blake3').map((algorithm) => `${algorithm}:${'a'.repeat(algorithm === 'sha512' ? 128 : 64)}`),
        ),
        (d) => {
          expect(isValidDigest(d)).toBe(isDigest(d));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('isValidMediaType', () => {
  it.each(['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.cncf.helm.config.v1+json', 'text/plain'])('accepts %s', (mt) => {
    expect(isValidMediaType(mt)).toBe(true);
  });

  it.each(['', 'application', 'application/', '/json', 'application/json; charset=utf-8', 'a/b/c', 'appli cation/json'])('rejects %j', (mt) => {
    expect(isValidMediaType(mt)).toBe(false);
  });
});

describe('checkDescriptor', () => {
  const good = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: SHA256, size: 10 };

  it('returns the same object, unknown fields included', () => {
    const desc = { ...good, 'io.example.extra': { nested: true } };
    expect(checkDescriptor(desc, 'layers[0]')).toBe(desc);
  });

  it('accepts a size of zero and well-typed optional fields', () => {
    const desc = {
      ...good,
      size: 0,
      urls: ['https://example.com/blob'],
      annotations: { 'org.opencontainers.image.title': 'x' },
      data: 'e30=',
      artifactType: 'application/vnd.example+json',
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8', 'os.features': ['x'] },
    };
    expect(checkDescriptor(desc, 'd')).toBe(desc);
  });

  it.each([
    ['not an object', 'x', 'layers[1]'],
    ['missing mediaType', { digest: SHA256, size: 1 }, 'layers[1].mediaType'],
    ['bad digest', { ...good, digest: 'sha256:abc' }, 'layers[1].digest'],
    ['negative size', { ...good, size: -1 }, 'layers[1].size'],
    ['fractional size', { ...good, size: 1.5 }, 'layers[1].size'],
    ['size as a string', { ...good, size: '10' }, 'layers[1].size'],
    ['size beyond 2^53', { ...good, size: 2 ** 53 }, 'layers[1].size'],
    ['urls not strings', { ...good, urls: [1] }, 'layers[1].urls[0]'],
    ['annotation not a string', { ...good, annotations: { a: 1 } }, 'layers[1].annotations["a"]'],
    ['platform without architecture', { ...good, platform: { os: 'linux' } }, 'layers[1].platform.architecture'],
  ])('rejects %s with MANIFEST_INVALID naming the field', (_label, value, field) => {
    let caught: unknown;
    try {
      checkDescriptor(value, 'layers[1]');
    } catch (err) {
      caught = err;
    }
    expect(isGantryError(caught, 'MANIFEST_INVALID')).toBe(true);
    expect((caught as { details: { field: string } }).details.field).toBe(field);
  });
});
