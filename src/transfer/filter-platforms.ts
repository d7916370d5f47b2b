import { digestOf } from '../digest/index.js';
import { isAttestationManifest, selectManifest } from '../media/index.js';
import type { Descriptor, ImageIndex, Manifest, Platform } from '../media/types.js';

// BuildKit links each attestation manifest to the image it describes with
// this annotation (buildkit docs/attestations/attestation-storage.md).
const REFERENCE_DIGEST_ANNOTATION = 'vnd.docker.reference.digest';

/** What filtering an index by platforms leaves: the index untouched, one child, or a new smaller index. */
export type FilterOutcome =
  | { kind: 'unchanged' }
  | { kind: 'single'; child: Descriptor }
  | { kind: 'filtered'; descriptor: Descriptor; bytes: Uint8Array; index: ImageIndex };

/**
 * Keeps the entries of `index` that best serve each wanted platform (the
 * same choice `selectManifest` makes for a pull, so `linux/arm` picks arm/v7
 * over arm/v6), in the index's own order.
 *
 * - One entry chosen: `single`, that child becomes the root.
 * - Several: `filtered`, a new index with those entries plus the BuildKit
 *   attestations that refer to them; every other field of the index is kept.
 *   Its bytes are new, so its digest differs from the source's.
 * - Every entry kept: `unchanged`, so the original bytes (and digest) are copied.
 *
 * @throws GantryError PLATFORM_NOT_FOUND when a wanted platform has no entry.
 */
export function filterPlatforms(manifest: Extract<Manifest, { kind: 'index' }>, platforms: readonly Platform[]): FilterOutcome {
  const index = manifest.manifest;
  const chosen = new Set(platforms.map((p) => selectManifest(index, p)));
  const images = index.manifests.filter((d) => chosen.has(d));
  const [first] = images;
  if (images.length === 1 && first !== undefined) return { kind: 'single', child: first };

  const digests = new Set(images.map((d) => d.digest));
  const kept = index.manifests.filter(
    (d) => chosen.has(d) || (isAttestationManifest(d) && digests.has(d.annotations?.[REFERENCE_DIGEST_ANNOTATION] ?? '')),
  );
  if (kept.length === index.manifests.length) return { kind: 'unchanged' };

  const filtered: ImageIndex = { ...index, manifests: kept };
  const bytes = new TextEncoder().encode(JSON.stringify(filtered));
  const descriptor: Descriptor = { mediaType: manifest.mediaType, digest: digestOf(bytes), size: bytes.byteLength };
  return { kind: 'filtered', descriptor, bytes, index: filtered };
}
