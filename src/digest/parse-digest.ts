import { GantryError } from '../errors/index.js';
import { registeredHexLength } from './algorithms.js';
import { quote } from '../internal/quote.js';

/** A digest split into its parts; `value` is the whole `algorithm:encoded` string. */
export interface Digest {
  readonly algorithm: string;
  readonly encoded: string;
  readonly value: string;
}

interface DigestProblem {
  message: string;
  /** 0-based index in the digest string where it stops being valid. */
  position: number;
}

const DIGEST_HINT = 'A digest looks like sha256:<64 lowercase hex characters>.';

/**
 * Parse a digest per the OCI image-spec grammar (descriptor.md, "Digests"):
 * `algorithm ":" encoded`, algorithm `[a-z0-9]+([+._-][a-z0-9]+)*`, encoded
 * `[a-zA-Z0-9=_-]+`. Registered algorithms (sha256, sha512, blake3) must carry
 * lowercase hex of their exact length; unregistered algorithms that fit the
 * grammar are accepted, as the spec asks.
 *
 * @throws GantryError `DIGEST_INVALID` with `details: { input, position }`,
 *   `position` being the 0-based index where the string stops being valid.
 */
export function parseDigest(s: string): Digest {
  const problem = findDigestProblem(s);
  if (problem) {
    throw new GantryError('DIGEST_INVALID', `invalid digest ${quote(s)}: ${problem.message}`, {
      hint: DIGEST_HINT,
      details: { input: s, position: problem.position },
    });
  }
  const colon = s.indexOf(':');
  return { algorithm: s.slice(0, colon), encoded: s.slice(colon + 1), value: s };
}

/** True when `s` is a valid digest (the same rules as `parseDigest`); never throws. */
export function isDigest(s: string): boolean {
  return typeof s === 'string' && findDigestProblem(s) === undefined;
}

function findDigestProblem(s: string): DigestProblem | undefined {
  if (s.length === 0) return { message: 'digest is empty', position: 0 };
  const colon = s.indexOf(':');
  if (colon < 0) return { message: "missing ':' between algorithm and encoded value", position: s.length };
  return findAlgorithmProblem(s, colon) ?? findEncodedProblem(s, colon);
}

function findAlgorithmProblem(s: string, colon: number): DigestProblem | undefined {
  if (colon === 0) return { message: 'algorithm is empty', position: 0 };
  let afterSeparator = true;
  for (let i = 0; i < colon; i++) {
    const c = s.charCodeAt(i);
    if (isLowerAlnum(c)) {
      afterSeparator = false;
    } else if (isAlgorithmSeparator(c)) {
      if (afterSeparator) return { message: `algorithm has a misplaced separator ${quote(s.charAt(i))}`, position: i };
      afterSeparator = true;
    } else if (isUpperAlpha(c)) {
      return { message: 'algorithm must be lowercase', position: i };
    } else {
      return { message: `invalid character ${quote(s.charAt(i))} in algorithm`, position: i };
    }
  }
  if (afterSeparator) return { message: 'algorithm must not end with a separator', position: colon - 1 };
  return undefined;
}

function findEncodedProblem(s: string, colon: number): DigestProblem | undefined {
  const start = colon + 1;
  if (start === s.length) return { message: 'encoded value is empty', position: start };
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isLowerAlnum(c) && !isUpperAlpha(c) && c !== 0x3d /* = */ && c !== 0x5f /* _ */ && c !== 0x2d /* - */) {
      return { message: `invalid character ${quote(s.charAt(i))} in encoded value`, position: i };
    }
  }
  const algorithm = s.slice(0, colon);
  const hexLength = registeredHexLength(algorithm);
  if (hexLength === undefined) return undefined;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isLowerHex(c)) continue;
    const what = c >= 0x41 && c <= 0x46 ? 'must be lowercase hex' : 'must be hex';
    return { message: `${algorithm} digest ${what} (${quote(s.charAt(i))} is not allowed)`, position: i };
  }
  const length = s.length - start;
  if (length !== hexLength) {
    return {
      message: `${algorithm} digest must have ${hexLength} hex characters, not ${length}`,
      position: length < hexLength ? s.length : start + hexLength,
    };
  }
  return undefined;
}

function isLowerAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
}

function isUpperAlpha(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}

function isLowerHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
}

function isAlgorithmSeparator(c: number): boolean {
  return c === 0x2b /* + */ || c === 0x2e /* . */ || c === 0x5f /* _ */ || c === 0x2d /* - */;
}
