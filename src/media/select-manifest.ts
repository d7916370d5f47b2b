import { GantryError } from '../errors/index.js';
import { compatibilityRank, formatPlatform, normalizePlatform } from './platform.js';
import type { Descriptor, ImageIndex, Platform } from './types.js';

// BuildKit stores provenance and SBOM attestations as extra index entries
// with this annotation and an `unknown/unknown` platform.
const REFERENCE_TYPE_ANNOTATION = 'vnd.docker.reference.type';
const ATTESTATION_MANIFEST = 'attestation-manifest';

/**
 * True for index entries that are not runnable images but attestations
 * attached by BuildKit: annotated `vnd.docker.reference.type:
 * attestation-manifest`, or with the platform `unknown/unknown`.
 */
export function isAttestationManifest(descriptor: Descriptor): boolean {
  if (descriptor.annotations?.[REFERENCE_TYPE_ANNOTATION] === ATTESTATION_MANIFEST) return true;
  const p = descriptor.platform;
  return p !== undefined && p.os === 'unknown' && p.architecture === 'unknown';
}

/**
 * Picks the index entry that best serves `want`: an exact match (after
 * normalization) over a compatible older variant, the closer variant over
 * the farther one, and the earlier entry on a tie. Attestations and entries
 * without a platform are never chosen.
 * @throws GantryError PLATFORM_NOT_FOUND when nothing matches; the hint lists the platforms the index offers.
 */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor {
  let best: { descriptor: Descriptor; rank: number } | undefined;
  for (const descriptor of index.manifests) {
    if (descriptor.platform === undefined || isAttestationManifest(descriptor)) continue;
    const rank = compatibilityRank(want, descriptor.platform);
    if (rank !== undefined && (best === undefined || rank < best.rank)) best = { descriptor, rank };
  }
  if (best !== undefined) return best.descriptor;

  const available = availablePlatforms(index);
  const wanted = formatPlatform(normalizePlatform(want));
  throw new GantryError('PLATFORM_NOT_FOUND', `no image for platform ${wanted} in the index`, {
    hint: available.length > 0 ? `The index offers: ${available.join(', ')}.` : 'The index lists no platforms.',
    details: { platform: wanted, available },
  });
}

/** The distinct platforms an index offers, attestations left out, in index order. */
export function availablePlatforms(index: ImageIndex): string[] {
  const seen = new Set<string>();
  for (const descriptor of index.manifests) {
    if (descriptor.platform === undefined || isAttestationManifest(descriptor)) continue;
    seen.add(formatPlatform(descriptor.platform));
  }
  return [...seen];
}
