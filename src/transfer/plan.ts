import { GantryError } from '../errors/index.js';
import { throwIfAborted } from '../internal/abort.js';
import { isForeignLayer } from '../media/index.js';
import type { Descriptor, Manifest, Platform } from '../media/types.js';
import type { ImageSource } from '../transports/types.js';
import { filterPlatforms } from './filter-platforms.js';
import { requireImagePlatform } from './image-platform.js';
import type { CopyRequest } from './types.js';

/** A manifest or index to write at the target, with what must be there before it. */
export interface PlannedManifest {
  /** As it is written: the parent's entry, the request's root, or a filtered index's new descriptor. */
  descriptor: Descriptor;
  /** The exact bytes to write (the source's, unless this is a filtered index). */
  bytes: Uint8Array;
  /** Blobs this manifest names directly (config and layers; foreign layers left out). */
  blobs: Descriptor[];
  /** Manifests this index names, each written before it. */
  children: PlannedManifest[];
  /** True for an index made by filtering platforms: its digest is new. */
  filtered: boolean;
}

export interface PlannedImage {
  /** The root the request named at the source. */
  sourceRoot: Descriptor;
  /** What is written and committed: the source root, its only chosen child, or a filtered index. */
  root: PlannedManifest;
  names: string[];
  /** Every blob the image depends on, once each, in walk order. */
  blobs: Descriptor[];
  /** Every manifest the image depends on, once each, children before parents, the root last. */
  manifests: PlannedManifest[];
}

/** Everything a copy will look at, deduplicated across platforms and roots. */
export interface CopyPlan {
  images: PlannedImage[];
  /** Unique blobs (by digest), first seen first. */
  blobs: Descriptor[];
  /** Unique manifests (by digest), children before parents. */
  manifests: PlannedManifest[];
  /** Sum of the sizes of `blobs`. */
  totalBytes: number;
}

export interface PlanOptions {
  /** Keep only these platforms of a root index (see filterPlatforms); empty or undefined keeps all. */
  platforms?: readonly Platform[];
  signal?: AbortSignal;
  /** Runs each manifest fetch, e.g. under the copy's concurrency slots; default: at once. */
  run?: <T>(fn: () => Promise<T>) => Promise<T>;
}

// Indexes may nest (an index of indexes); real images stop at two levels.
// A bound keeps a hostile source from sending the walk arbitrarily deep.
const MAX_DEPTH = 8;

/**
 * Walks each requested root at the source (index → manifests → config and
 * layers), applying the platform filter to root indexes only, and fetches
 * every manifest once however many roots or indexes share it. Index
 * children are fetched in parallel (through `options.run`). Nothing is
 * written anywhere.
 *
 * @throws GantryError PLATFORM_NOT_FOUND when a wanted platform is missing
 *   from a root index; MANIFEST_INVALID for indexes nested deeper than 8;
 *   INTERRUPTED when the signal aborts; whatever `source.manifest` throws.
 */
export async function planCopy(source: ImageSource, requests: readonly CopyRequest[], options: PlanOptions = {}): Promise<CopyPlan> {
  const run = options.run ?? (<T>(fn: () => Promise<T>) => fn());
  const fetched = new Map<string, Promise<Manifest>>();
  const planned = new Map<string, Promise<PlannedManifest>>();

  const fetch = (desc: Descriptor): Promise<Manifest> => {
    let pending = fetched.get(desc.digest);
    if (pending === undefined) {
      pending = run(() => {
        throwIfAborted(options.signal);
        return source.manifest(desc, { signal: options.signal });
      });
      fetched.set(desc.digest, pending);
    }
    return pending;
  };

  const planFetched = async (descriptor: Descriptor, manifest: Manifest, depth: number): Promise<PlannedManifest> => {
    if (manifest.kind === 'image') {
      const { config, layers } = manifest.manifest;
      // Foreign (non-distributable) layers stay where their `urls` say; registries refuse them.
      const blobs = [config, ...layers].filter((d) => !isForeignLayer(d.mediaType));
      return { descriptor, bytes: manifest.bytes, blobs, children: [], filtered: false };
    }
    const children = await Promise.all(manifest.manifest.manifests.map((child) => planChild(child, depth + 1)));
    return { descriptor, bytes: manifest.bytes, blobs: [], children, filtered: false };
  };

  const planChild = (descriptor: Descriptor, depth: number): Promise<PlannedManifest> => {
    if (depth > MAX_DEPTH) {
      return Promise.reject(
        new GantryError('MANIFEST_INVALID', `indexes nest deeper than ${MAX_DEPTH} levels at ${descriptor.digest}`, {
          details: { digest: descriptor.digest },
        }),
      );
    }
    let pending = planned.get(descriptor.digest);
    if (pending === undefined) {
      pending = fetch(descriptor).then((m) => planFetched(descriptor, m, depth));
      planned.set(descriptor.digest, pending);
    }
    return pending;
  };

  const planRoot = async (request: CopyRequest): Promise<PlannedManifest> => {
    const platforms = options.platforms ?? [];
    const manifest = await fetch(request.root);
    if (manifest.kind === 'image' && platforms.length > 0) await run(() => requireImagePlatform(source, manifest, platforms, options.signal));
    if (manifest.kind !== 'index' || platforms.length === 0) return planChild(request.root, 0);
    const outcome = filterPlatforms(manifest, platforms);
    if (outcome.kind === 'unchanged') return planChild(request.root, 0);
    if (outcome.kind === 'single') return planChild(outcome.child, 1);
    const children = await Promise.all(outcome.index.manifests.map((child) => planChild(child, 1)));
    return { descriptor: outcome.descriptor, bytes: outcome.bytes, blobs: [], children, filtered: true };
  };

  const roots = await Promise.all(requests.map(planRoot));
  const images = requests.map((request, i) => imageOf(request, roots[i] as PlannedManifest));
  const blobs = uniqueBy(images.flatMap((image) => image.blobs), (b) => b.digest);
  const manifests = uniqueBy(images.flatMap((image) => image.manifests), (m) => m.descriptor.digest);
  return { images, blobs, manifests, totalBytes: blobs.reduce((sum, b) => sum + b.size, 0) };
}

function imageOf(request: CopyRequest, root: PlannedManifest): PlannedImage {
  const manifests: PlannedManifest[] = [];
  const seen = new Set<string>();
  // Post-order: a manifest is listed only after everything it names.
  const visit = (m: PlannedManifest): void => {
    if (seen.has(m.descriptor.digest)) return;
    seen.add(m.descriptor.digest);
    for (const child of m.children) visit(child);
    manifests.push(m);
  };
  visit(root);
  const blobs = uniqueBy(manifests.flatMap((m) => m.blobs), (b) => b.digest);
  return { sourceRoot: request.root, root, names: request.names, blobs, manifests };
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
