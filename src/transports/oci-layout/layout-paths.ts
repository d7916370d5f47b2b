import { join } from 'node:path';
import { parseDigest } from '../../digest/index.js';

/*
 * Paths inside an OCI image layout (image-spec image-layout.md): the
 * `oci-layout` marker, `index.json`, and content-addressable blobs at
 * `blobs/<algorithm>/<encoded>`. Staged (partial) blobs live under
 * `blobs/<algorithm>/.partial/`: inside the layout, so a rename publishes
 * them on the same filesystem, and dot-named, so nothing that lists blobs
 * takes them for content.
 */

/** The annotation naming an index.json entry (image-spec annotations.md); skopeo's `oci:DIR:TAG` is this value. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** The layout version gantry writes; it reads any 1.x. */
export const LAYOUT_VERSION = '1.0.0';

/** Directory of staged blobs inside `blobs/<algorithm>/`. */
export const PARTIAL_DIR = '.partial';

export function layoutMarkerPath(dir: string): string {
  return join(dir, 'oci-layout');
}

export function indexPath(dir: string): string {
  return join(dir, 'index.json');
}

/**
 * `blobs/<algorithm>/<encoded>` for a digest. The digest grammar (no `/`, no
 * leading `.`) keeps the path inside the layout.
 *
 * @throws GantryError DIGEST_INVALID for a malformed digest.
 */
export function blobPath(dir: string, digest: string): string {
  const { algorithm, encoded } = parseDigest(digest);
  return join(dir, 'blobs', algorithm, encoded);
}

/** Where a blob is staged while it is written (see the file comment). */
export function partialBlobPath(dir: string, digest: string): string {
  const { algorithm, encoded } = parseDigest(digest);
  return join(dir, 'blobs', algorithm, PARTIAL_DIR, encoded);
}
