import { isGantryError } from '../../errors/index.js';
import type { Descriptor, Manifest } from '../../media/types.js';
import { readLayoutManifest } from './layout-blobs.js';

/** What a walk of a layout found: every blob a set of roots needs, and the manifests among them, parsed. */
export interface ReachableBlobs {
  /** Every blob reached (manifests, indexes, configs, layers), by digest. */
  blobs: Map<string, Descriptor>;
  /** The image manifests and indexes reached, by digest, as parsed. */
  manifests: Map<string, Manifest>;
}

// Content a walk can meet but must not stop at: a child manifest an index
// lists without holding it (skopeo's `--multi-arch index-only`, a partial
// copy by another tool), or a manifest of a type gantry cannot parse
// (treated as a plain blob: it is kept, its children are not known).
const TOLERATED = ['MANIFEST_UNKNOWN', 'UNSUPPORTED_MEDIA_TYPE', 'MANIFEST_INVALID'] as const;

/**
 * Walk from `roots` (index.json entries) through indexes and manifests to
 * configs and layers, each digest once. Roots and index children are read as
 * manifests; configs and layers are leaves. Missing or unparseable manifests
 * are recorded as blobs and not descended into (see TOLERATED).
 *
 * @throws GantryError SIZE_MISMATCH / DIGEST_MISMATCH for a manifest whose
 *   bytes do not match its descriptor (a damaged layout); fs errors.
 */
export async function reachableBlobs(dir: string, roots: readonly Descriptor[]): Promise<ReachableBlobs> {
  const blobs = new Map<string, Descriptor>();
  const manifests = new Map<string, Manifest>();
  const pending: Descriptor[] = [...roots];
  // Each digest is visited once, so the walk is bounded by the number of blobs.
  for (let desc = pending.pop(); desc !== undefined; desc = pending.pop()) {
    if (blobs.has(desc.digest)) continue;
    blobs.set(desc.digest, desc);
    let manifest: Manifest;
    try {
      manifest = await readLayoutManifest(dir, desc, dir);
    } catch (err) {
      if (TOLERATED.some((code) => isGantryError(err, code))) continue;
      throw err;
    }
    manifests.set(desc.digest, manifest);
    if (manifest.kind === 'index') {
      pending.push(...manifest.manifest.manifests);
    } else {
      for (const leaf of [manifest.manifest.config, ...manifest.manifest.layers]) {
        if (!blobs.has(leaf.digest)) blobs.set(leaf.digest, leaf);
      }
    }
  }
  return { blobs, manifests };
}
