import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_ALGORITHMS, createDigester, digestOf, isSupportedAlgorithm } from '../../../src/digest/index.js';

const enc = new TextEncoder();

describe('digestOf', () => {
  it.each([
    ['', 'sha256', 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'sha256', 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abc',
      'sha512',
      'sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    ],
  ])('hashes %j with %s (FIPS 180 test vectors)', (text, algorithm, expected) => {
    expect(digestOf(enc.encode(text), algorithm)).toBe(expected);
  });

  it('defaults to sha256', () => {
    expect(digestOf(enc.encode('abc'))).toMatch(/^sha256:ba7816bf/);
  });

  it.each(['blake3', 'md5', 'SHA256', 'constructor'])('refuses %s with UNSUPPORTED', (algorithm) => {
    expect(() => digestOf(new Uint8Array(1), algorithm)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(isSupportedAlgorithm(algorithm)).toBe(false);
  });

  it('lists sha256 and sha512 as supported', () => {
    expect(SUPPORTED_ALGORITHMS).toEqual(['sha256', 'sha512']);
    expect(SUPPORTED_ALGORITHMS.every(isSupportedAlgorithm)).toBe(true);
  });
});

describe('createDigester', () => {
  it('gives the same digest however the bytes are split', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), fc.constantFrom('sha256', 'sha512'), (chunks, algorithm) => {
        const digester = createDigester(algorithm);
        for (const chunk of chunks) digester.update(chunk);
        const whole = Buffer.concat(chunks);
        expect(digester.digest()).toBe(`${algorithm}:${createHash(algorithm).update(whole).digest('hex')}`);
        expect(digestOf(whole, algorithm)).toBe(`${algorithm}:${createHash(algorithm).update(whole).digest('hex')}`);
      }),
      { numRuns: 200 },
    );
  });

  it('chains updates and reports its algorithm', () => {
    const digester = createDigester();
    expect(digester.algorithm).toBe('sha256');
    expect(digester.update(enc.encode('a')).update(enc.encode('bc')).digest()).toBe(digestOf(enc.encode('abc')));
  });

  it('refuses an unsupported algorithm up front', () => {
    expect(() => createDigester('blake3')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED', hint: expect.stringContaining('sha256') }));
  });
});
