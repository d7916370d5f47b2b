import { createHash, type Hash } from 'node:crypto';
import { GantryError } from '../errors/index.js';
import { SUPPORTED_ALGORITHMS, nodeHashName } from './algorithms.js';
import { quote } from '../internal/quote.js';

/** An incremental hash producing an OCI digest string. */
export interface Digester {
  readonly algorithm: string;
  /** Feed more bytes; returns the same digester for chaining. */
  update(chunk: Uint8Array): Digester;
  /**
   * The digest of everything fed so far, as `algorithm:hex`. Ends the
   * digester: calling `update` or `digest` again is a programmer error and throws.
   */
  digest(): string;
}

/**
 * Start an incremental hash (node:crypto) for one of the algorithms gantry
 * can compute: sha256 or sha512.
 *
 * @throws GantryError `UNSUPPORTED` for any other algorithm (including the
 *   registered but uncomputable blake3).
 */
export function createDigester(algorithm = 'sha256'): Digester {
  const hash = openHash(algorithm);
  const digester: Digester = {
    algorithm,
    update(chunk) {
      hash.update(chunk);
      return digester;
    },
    digest() {
      return `${algorithm}:${hash.digest('hex')}`;
    },
  };
  return digester;
}

/**
 * The digest of an in-memory byte string, as `algorithm:hex`.
 *
 * @throws GantryError `UNSUPPORTED` when the algorithm is not sha256 or sha512.
 */
export function digestOf(bytes: Uint8Array, algorithm = 'sha256'): string {
  return `${algorithm}:${openHash(algorithm).update(bytes).digest('hex')}`;
}

function openHash(algorithm: string): Hash {
  const name = nodeHashName(algorithm);
  if (name === undefined) {
    throw new GantryError('UNSUPPORTED', `unsupported digest algorithm ${quote(algorithm)}`, {
      hint: `gantry can compute ${SUPPORTED_ALGORITHMS.join(' and ')} digests.`,
      details: { algorithm },
    });
  }
  return createHash(name);
}
