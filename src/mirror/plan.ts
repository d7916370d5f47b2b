import { repositoryOf } from '../reference/index.js';
import type { Reference } from '../reference/types.js';
import { inShard, shardKey, type Shard } from './shard.js';

/**
 * What a run does with one tag at one destination:
 * - `copy`: the destination lacks the tag or names another digest;
 * - `up-to-date`: both sides name the same digest, nothing moves;
 * - `skip-existing`: the destination has the tag and `skipExisting` treats it as immutable;
 * - `prune`: a destination tag the selection no longer includes (only with `prune`);
 * - `keep-shared`: would be pruned, but its digest is also a kept tag's, and
 *   deleting it could delete that manifest with it (registries delete manifests by digest);
 * - `failed`: the source could not be read, or two sources write the same destination tag.
 */
export type PlanAction = 'copy' | 'up-to-date' | 'skip-existing' | 'prune' | 'keep-shared' | 'failed';

/** What HEAD requests found for one selected tag at one destination. */
export interface ImageObservation {
  /** The source repository (no tag). */
  source: Reference;
  tag: string;
  /** The destination repository (no tag). */
  destination: Reference;
  /** The source manifest digest; undefined when `error` says why it is unknown. */
  sourceDigest?: string;
  /** The destination's digest for the tag; undefined when it has no such tag or was not asked. */
  destinationDigest?: string;
  /** Whether the destination has the tag, when known without its digest (a tag list, for `skipExisting`); default: `destinationDigest !== undefined`. */
  destinationHasTag?: boolean;
  /** Why the source could not be read (missing repository, denied). */
  error?: string;
}

/** The tags a destination repository has, with their digests, for pruning. */
export interface DestinationTags {
  repository: Reference;
  /** Every tag of the destination → the digest it names. */
  tags: ReadonlyMap<string, string>;
}

export interface PlanInput {
  /** One per selected (source, tag, destination); repeats are planned once. */
  images: readonly ImageObservation[];
  /** The destinations' tags; needed only with `prune`. */
  destinations?: readonly DestinationTags[];
  skipExisting?: boolean;
  prune?: boolean;
  /** Keep only this shard's work (see `shardOf`). */
  shard?: Shard;
}

/** One step of a mirror plan. Repositories are full names (`docker.io/library/alpine`). */
export interface PlanItem {
  action: PlanAction;
  /** The source repository; absent for prune items (the destination is the only side). */
  source?: string;
  destination: string;
  tag: string;
  sourceDigest?: string;
  destinationDigest?: string;
  /** For `failed` the error; for `keep-shared` the kept tag sharing the digest. */
  reason?: string;
}

/**
 * Plans a mirror run from what HEAD requests observed. Pure and deterministic.
 *
 * Copies and comparisons come first, in input order; prune items follow,
 * by destination then tag. Sharding keys copy items by
 * `source repository:tag` and prune items by `destination repository:tag`,
 * so the shards of one input are disjoint and together give the unsharded plan.
 *
 * Prune guarantees: a tag is pruned only when `prune` is set, the
 * destination appears in `destinations`, and no image of the input writes
 * that tag there; a candidate whose digest some kept tag names now or will
 * name after the copy is `keep-shared`, never `prune`.
 */
export function planMirror(input: PlanInput): PlanItem[] {
  const items: PlanItem[] = [];
  const writers = new Map<string, string>();
  const seen = new Set<string>();
  const keptDigests = new Map<string, Map<string, string>>();
  const inThisShard = (key: string): boolean => input.shard === undefined || inShard(key, input.shard);

  for (const image of input.images) {
    const source = repositoryOf(image.source);
    const destination = repositoryOf(image.destination);
    const target = `${destination}:${image.tag}`;
    if (seen.has(`${source}>${target}`)) continue;
    seen.add(`${source}>${target}`);
    const kept = keptDigests.get(destination) ?? new Map<string, string>();
    keptDigests.set(destination, kept);
    for (const digest of [image.sourceDigest, image.destinationDigest]) if (digest !== undefined && !kept.has(digest)) kept.set(digest, image.tag);
    const writer = writers.get(target);
    writers.set(target, writer ?? source);
    if (!inThisShard(shardKey(source, image.tag))) continue;
    items.push(planImage(image, { source, destination, conflict: writer, skipExisting: input.skipExisting ?? false }));
  }

  if (input.prune !== true) return items;
  const destinations = [...(input.destinations ?? [])].sort((a, b) => byCodePoint(repositoryOf(a.repository), repositoryOf(b.repository)));
  for (const dest of destinations) {
    const destination = repositoryOf(dest.repository);
    const kept = keptDigests.get(destination) ?? new Map<string, string>();
    for (const tag of [...dest.tags.keys()].sort(byCodePoint)) {
      if (writers.has(`${destination}:${tag}`) || !inThisShard(shardKey(destination, tag))) continue;
      const digest = dest.tags.get(tag) as string;
      const sharedWith = kept.get(digest);
      items.push(
        sharedWith === undefined
          ? { action: 'prune', destination, tag, destinationDigest: digest }
          : { action: 'keep-shared', destination, tag, destinationDigest: digest, reason: `shares its manifest with kept tag ${sharedWith}` },
      );
    }
  }
  return items;
}

interface ImageContext {
  source: string;
  destination: string;
  /** The source already writing this destination tag, if another one is. */
  conflict: string | undefined;
  skipExisting: boolean;
}

function planImage(image: ImageObservation, ctx: ImageContext): PlanItem {
  const base = {
    source: ctx.source,
    destination: ctx.destination,
    tag: image.tag,
    ...(image.sourceDigest === undefined ? {} : { sourceDigest: image.sourceDigest }),
    ...(image.destinationDigest === undefined ? {} : { destinationDigest: image.destinationDigest }),
  };
  if (ctx.conflict !== undefined) return { ...base, action: 'failed', reason: `${ctx.destination}:${image.tag} is also mirrored from ${ctx.conflict}` };
  const hasTag = image.destinationHasTag ?? image.destinationDigest !== undefined;
  // Immutable destination tags are skipped even when the source cannot be read: nothing would be written.
  if (ctx.skipExisting && hasTag) return { ...base, action: 'skip-existing' };
  if (image.error !== undefined || image.sourceDigest === undefined) {
    return { ...base, action: 'failed', reason: image.error ?? 'the source digest is unknown' };
  }
  return { ...base, action: image.destinationDigest === image.sourceDigest ? 'up-to-date' : 'copy' };
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
