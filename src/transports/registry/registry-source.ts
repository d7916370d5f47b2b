import { Readable } from 'node:stream';
import { verifyBytes } from '../../digest/index.js';
import { isGantryError } from '../../errors/index.js';
import { MANIFEST_ACCEPT } from '../../media/index.js';
import type { Descriptor, Manifest } from '../../media/types.js';
import { formatReference, referenceOrDefaultTag, repositoryOf, withoutTagOrDigest, withTag } from '../../reference/index.js';
import type { Reference } from '../../reference/types.js';
import type { ManifestHead, RegistryClient } from '../../registry/types.js';
import type { BlobOrigin, BlobReader, ImageSource, SourceImage, TransportOptions } from '../types.js';
import type { BlobLocations } from './blob-locations.js';

export interface RegistrySourceOptions {
  /** Every tag of the repository (the reference's tag or digest is ignored). */
  allTags?: boolean;
  /** Manifest HEADs in flight at once while resolving every tag (default 8). */
  tagConcurrency?: number;
  /** Learns that this repository holds each blob read from it (a later push to the registry may mount from here). */
  locations?: BlobLocations;
}

/**
 * An image (or, with `allTags`, a whole repository) in a registry, read
 * through `client`. The client stays the caller's: `close()` does not close it.
 *
 * - `images()` resolves the tag or digest with a manifest HEAD (a reference
 *   with neither means `latest`, as docker), not a GET: a copy whose target
 *   already has the image then never GETs the manifest, and registries count
 *   manifest GETs as pulls (Docker Hub's allowance, Harbor's pull count and
 *   "pulled within N days" retention, ECR's last-pulled time), which a no-op
 *   copy should not be. With `allTags`, every tag,
 *   tags sharing a root grouped into one image (a tag deleted between the
 *   listing and its HEAD is left out). Throws what
 *   `headManifest`/`listTags` throw (MANIFEST_UNKNOWN, NAME_UNKNOWN, AUTH_*).
 * - `manifest()` fetches by digest, digest- and size-checked.
 * - `blob()` streams from `from` on with a Range request; from the blob's
 *   size on, an empty stream without a request (nothing is left to read).
 */
export function createRegistrySource(client: RegistryClient, ref: Reference, options: RegistrySourceOptions = {}): ImageSource {
  const repo = withoutTagOrDigest(ref);
  const origin: BlobOrigin = { registry: ref.registry, repository: ref.repository };
  const description = options.allTags ? `docker://${repositoryOf(ref)} (all tags)` : `docker://${formatReference(ref)}`;

  const rootOf = async (target: Reference, signal: AbortSignal | undefined): Promise<Descriptor> => {
    const head = await client.headManifest(target, signal ? { signal } : {});
    return describe(head, signal);
  };

  const describe = async (head: ManifestHead, signal: AbortSignal | undefined): Promise<Descriptor> => {
    if (head.mediaType) return { mediaType: head.mediaType, digest: head.digest, size: head.size };
    // No Content-Type on the HEAD: the manifest itself says what it is.
    const manifest = await client.getManifest({ ...repo, digest: head.digest }, signal ? { signal } : {});
    return { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.byteLength };
  };

  const everyTag = async (signal: AbortSignal | undefined): Promise<SourceImage[]> => {
    const tags: string[] = [];
    for await (const page of client.listTags(repo, signal ? { signal } : {})) tags.push(...page);
    const roots = await mapLimit(tags, options.tagConcurrency ?? 8, async (tag) => {
      try {
        return await rootOf(withTag(repo, tag), signal);
      } catch (err) {
        // Listed, then deleted before its HEAD: not part of the repository any more.
        if (isGantryError(err, 'MANIFEST_UNKNOWN')) return undefined;
        throw err;
      }
    });
    const byDigest = new Map<string, SourceImage>();
    tags.forEach((tag, i) => {
      const root = roots[i];
      if (!root) return;
      const image = byDigest.get(root.digest);
      if (image) image.names.push(tag);
      else byDigest.set(root.digest, { root, names: [tag] });
    });
    return [...byDigest.values()];
  };

  return {
    description,
    origin,

    async images(opts: TransportOptions = {}) {
      if (options.allTags) return everyTag(opts.signal);
      const target = referenceOrDefaultTag(ref);
      const root = await rootOf(target, opts.signal);
      return [{ root, names: target.tag !== undefined ? [target.tag] : [] }];
    },

    async manifest(desc: Descriptor, opts: TransportOptions = {}): Promise<Manifest> {
      const accept = MANIFEST_ACCEPT.includes(desc.mediaType) || !desc.mediaType ? [...MANIFEST_ACCEPT] : [desc.mediaType, ...MANIFEST_ACCEPT];
      const manifest = await client.getManifest({ ...repo, digest: desc.digest }, { accept, ...(opts.signal ? { signal: opts.signal } : {}) });
      verifyBytes(manifest.bytes, { digest: desc.digest, size: desc.size });
      return manifest;
    },

    async blob(desc: Descriptor, opts: TransportOptions & { from?: number } = {}): Promise<BlobReader> {
      const from = opts.from ?? 0;
      if (from > 0 && from >= desc.size) return { body: Readable.from([]), offset: desc.size };
      const openBlob = client.openBlob;
      if (!openBlob) throw new Error('createRegistrySource: the registry client cannot stream blobs (openBlob)');
      const opened = await openBlob(repo, desc, { from, ...(opts.signal ? { signal: opts.signal } : {}) });
      options.locations?.remember(ref.registry, ref.repository, desc.digest);
      return { body: opened.body, offset: opened.offset };
    },

    async close() {
      // The client is shared with the caller, who closes it.
    },
  };
}

/** `fn` over `items` with at most `limit` calls in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
