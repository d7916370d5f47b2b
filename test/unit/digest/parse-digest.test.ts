import { describe, expect, it } from 'vitest';
import { GantryError, isGantryError } from '../../../src/errors/index.js';
import { isDigest, parseDigest } from '../../../src/digest/index.js';

const HEX64 = '6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b';
const HEX128 = `${HEX64}${HEX64}`;

function errorOf(run: () => unknown): GantryError {
  try {
    run();
  } catch (err) {
    if (isGantryError(err)) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('parseDigest', () => {
  it.each([
    [`sha256:${HEX64}`, 'sha256', HEX64],
    [`sha512:${HEX128}`, 'sha512', HEX128],
    [`blake3:${HEX64}`, 'blake3', HEX64],
    // Unregistered algorithms pass when they fit the grammar (image-spec descriptor.md examples).
    ['multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8', 'multihash+base58', 'QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8'],
    ['sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564', 'sha256+b64u', 'LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564'],
    ['a.b-c_d+e:x=', 'a.b-c_d+e', 'x='],
    ['1:2', '1', '2'],
  ])('splits %s', (value, algorithm, encoded) => {
    expect(parseDigest(value)).toEqual({ algorithm, encoded, value });
    expect(isDigest(value)).toBe(true);
  });

  it.each([
    ['', 0, 'digest is empty'],
    [HEX64, 64, "missing ':'"],
    [`:${HEX64}`, 0, 'algorithm is empty'],
    [`sha256:`, 7, 'encoded value is empty'],
    [`SHA256:${HEX64}`, 0, 'algorithm must be lowercase'],
    [`sha 256:${HEX64}`, 3, 'invalid character " " in algorithm'],
    [`+sha256:${HEX64}`, 0, 'misplaced separator "+"'],
    [`sha256++b64:abc`, 7, 'misplaced separator "+"'],
    [`sha256-:abc`, 6, 'must not end with a separator'],
    [`sha256:${HEX64.slice(0, 63)}`, 70, 'sha256 digest must have 64 hex characters, not 63'],
    [`sha256:${HEX64}0`, 71, 'not 65'],
    [`sha256:${HEX64.slice(0, 10).toUpperCase()}${HEX64.slice(10)}`, 8, 'must be lowercase hex'],
    [`sha256:${HEX64.slice(0, 63)}g`, 70, 'must be hex'],
    [`sha512:${HEX64}`, 71, 'sha512 digest must have 128 hex characters, not 64'],
    [`blake3:${HEX64.slice(1)}`, 70, 'blake3 digest must have 64 hex characters'],
    [`sha256:${HEX64.slice(0, 32)}:${HEX64.slice(0, 31)}`, 39, 'invalid character ":" in encoded value'],
    ['foo:bar/baz', 7, 'invalid character "/" in encoded value'],
    ['foo:bar\n', 7, 'invalid character "\\n" in encoded value'],
  ])('rejects %j at %i: %s', (input, position, message) => {
    const err = errorOf(() => parseDigest(input));
    expect(err.code).toBe('DIGEST_INVALID');
    expect(err.message).toContain(message);
    expect(err.message).not.toMatch(/[\r\n]/);
    expect(err.details).toEqual({ input, position });
    expect(isDigest(input)).toBe(false);
  });

  it('does not treat prototype property names as registered algorithms', () => {
    expect(parseDigest('constructor:abc')).toEqual({ algorithm: 'constructor', encoded: 'abc', value: 'constructor:abc' });
  });
});
