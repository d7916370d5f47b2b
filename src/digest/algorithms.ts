/**
 * The digest algorithms registered by the OCI image-spec (descriptor.md,
 * "Registered algorithms"): each fixes its encoded form to lowercase hex of a
 * given length. `hash` names the node:crypto hash when gantry can compute it;
 * blake3 is registered but node:crypto has no implementation, so gantry can
 * parse such digests but not verify content against them.
 */
interface RegisteredAlgorithm {
  readonly hexLength: number;
  readonly hash?: string;
}

// A Map, not an object literal, so names like "constructor" never hit the prototype.
const REGISTERED: ReadonlyMap<string, RegisteredAlgorithm> = new Map([
  ['sha256', { hexLength: 64, hash: 'sha256' }],
  ['sha512', { hexLength: 128, hash: 'sha512' }],
  ['blake3', { hexLength: 64 }],
]);

/** The algorithms gantry can hash and verify with. */
export const SUPPORTED_ALGORITHMS: readonly string[] = ['sha256', 'sha512'];

/** The fixed hex length of a registered algorithm's encoded part, or undefined for unregistered algorithms. */
export function registeredHexLength(algorithm: string): number | undefined {
  return REGISTERED.get(algorithm)?.hexLength;
}

/** The node:crypto hash name for an algorithm gantry can compute, or undefined. */
export function nodeHashName(algorithm: string): string | undefined {
  return REGISTERED.get(algorithm)?.hash;
}

/** True when gantry can hash content with this algorithm. */
export function isSupportedAlgorithm(algorithm: string): boolean {
  return nodeHashName(algorithm) !== undefined;
}
