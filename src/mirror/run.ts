import { GantryError } from '../errors/index.js';
import { throwIfAborted } from '../internal/abort.js';
import { repositoryOf, withTag, withoutTagOrDigest } from '../reference/index.js';
import type { Reference } from '../reference/types.js';
import { planMirror, type DestinationTags, type ImageObservation, type PlanItem } from './plan.js';
import { recordOf, summarize, type MirrorRecord } from './report.js';
import { selectTags } from './select.js';
import type { MirrorOps, MirrorRunResult, RateBudget, RateLimitStop, RunMirrorOptions } from './run-ops.js';
import { inShard, shardKey } from './shard.js';
import type { MirrorSource, MirrorSpec } from './types.js';

export type { MirrorCopyRequest, MirrorOpOptions, MirrorOps, MirrorRunResult, RateBudget, RateLimitStop, RunMirrorOptions } from './run-ops.js';

/** The tag failed items use when a whole repository could not be read: no real tag contains `*`. */
export const WHOLE_REPOSITORY = '*';

const DEFAULT_IMAGE_CONCURRENCY = 4;
const DEFAULT_LOOKUP_CONCURRENCY = 8;
const DEFAULT_RATE_LIMIT_RESERVE = 0.1;

type Listed = { source: MirrorSource; tags: string[] } | { source: MirrorSource; error: string };

/**
 * Runs a mirror: lists and selects each source's tags, compares source and
 * destination digests with HEAD requests only (each tag HEADed at most once
 * per side), plans with `planMirror`, then copies what differs (at most
 * `concurrency` images at once) and, with `prune`, untags what the selection
 * dropped. With `shard`, only that shard's tags are HEADed and copied. Source
 * HEADs are made with `source: true`, and a copy whose root no destination
 * HEAD saw carries `absentAtDestination`, so that neither side is asked
 * the same question twice.
 *
 * Guarantees: one image failing (a missing source, a denied push, a broken
 * blob) becomes a `failed` record and never stops the others; `dryRun`
 * calls no `copy` or `untag`; a destination whose source could not be listed
 * is never pruned; a tag sharing its manifest with a kept tag is never
 * untagged (`keep-shared`). When a source registry's rate-limit budget falls
 * to `rateLimitReserve` of its limit, copies from it are no longer started:
 * they are `failed` records saying so, and `stopped` describes the first stop.
 *
 * @throws GantryError INTERRUPTED when `signal` aborts; SEMVER_RANGE_INVALID
 *   for a range that cannot be parsed (a spec from `parseMirrorConfig` has
 *   none). Errors that are not GantryErrors (programmer errors) propagate.
 */
export async function runMirror(spec: MirrorSpec, ops: MirrorOps, options: RunMirrorOptions = {}): Promise<MirrorRunResult> {
  const started = performance.now();
  const { signal, shard } = options;
  const prune = options.prune ?? spec.defaults.prune;
  const skipExisting = options.skipExisting ?? spec.defaults.skipExisting;
  const lookup = options.lookupConcurrency ?? DEFAULT_LOOKUP_CONCURRENCY;
  const op = { ...(signal ? { signal } : {}) };
  const inThisShard = (repo: string, tag: string): boolean => shard === undefined || inShard(shardKey(repo, tag), shard);
  throwIfAborted(signal);

  const listed = await mapLimit(spec.sources, lookup, async (source): Promise<Listed> => {
    const outcome = await attempt(() => ops.listTags(withoutTagOrDigest(source.repository), op), signal);
    if ('error' in outcome) return { source, error: outcome.error };
    if (outcome.value === undefined) return { source, error: `${repositoryOf(source.repository)}: repository not found` };
    const selected = selectTags(outcome.value, source.selection);
    for (const tag of selected.missing) options.onWarning?.(`${repositoryOf(source.repository)}:${tag} is not in the source; skipped`);
    return { source, tags: selected.tags };
  });

  // Destinations to prune: never one written from a source that could not be listed, as its selection is unknown.
  const unreadable = new Set(listed.filter((l) => 'error' in l).flatMap((l) => l.source.destinations.map((d) => repositoryOf(d.repository))));
  const pruneTargets = prune ? uniqueBy(listed.flatMap((l) => l.source.destinations.map((d) => d.repository)), repositoryOf).filter((r) => !unreadable.has(repositoryOf(r))) : [];
  const extraFailures: PlanItem[] = [];
  const destinationTags = await mapLimit(pruneTargets, lookup, async (repository): Promise<DestinationTags | undefined> => {
    const outcome = await attempt(async () => headAll(repository, (await ops.listTags(repository, op)) ?? [], ops, lookup, signal), signal);
    if (!('error' in outcome)) return { repository, tags: outcome.value };
    if (inThisShard(repositoryOf(repository), WHOLE_REPOSITORY)) {
      extraFailures.push({ action: 'failed', destination: repositoryOf(repository), tag: WHOLE_REPOSITORY, reason: `cannot list the destination to prune: ${outcome.error}` });
    }
    return undefined;
  });
  const knownDestination = new Map(destinationTags.flatMap((d) => (d === undefined ? [] : [[repositoryOf(d.repository), d.tags] as const])));

  const observations = await observe(listed, { ops, lookup, signal, knownDestination, inThisShard });
  const plan = [
    ...planMirror({ images: observations, destinations: destinationTags.filter((d) => d !== undefined), skipExisting, prune, ...(shard ? { shard } : {}) }),
    ...extraFailures,
  ];

  const records = new Array<MirrorRecord>(plan.length);
  const settle = (index: number, record: MirrorRecord): void => {
    records[index] = record;
    options.onRecord?.(record);
  };
  const copies: number[] = [];
  const prunes: number[] = [];
  plan.forEach((item, i) => {
    if (options.dryRun !== true && item.action === 'copy') copies.push(i);
    else if (options.dryRun !== true && item.action === 'prune') prunes.push(i);
    else settle(i, recordOf(item));
  });

  const reserve = options.rateLimitReserve ?? DEFAULT_RATE_LIMIT_RESERVE;
  let stopped: RateLimitStop | undefined;
  const pairs = sourcePairs(spec.sources);
  const named = namedDigests(observations, knownDestination);
  /** Copies one planned item; `alone`: no copy of the same image to the same destination started before it. Resolves whether it started a copy. */
  const copyOne = async (i: number, alone: boolean): Promise<boolean> => {
    const item = plan[i] as PlanItem & { source: string };
    const pair = pairs.get(`${item.source}>${item.destination}`);
    if (pair === undefined) throw new Error(`mirror: the plan names ${item.source} > ${item.destination}, which the spec does not`);
    const { source, destination, platforms } = pair;
    const budget = ops.rateLimit?.(source.registry);
    if (budget !== undefined && isLow(budget, reserve)) {
      stopped ??= { registry: source.registry, remaining: budget.remaining, limit: budget.limit, undone: 0 };
      stopped.undone += 1;
      settle(i, recordOf(item, { error: `not started: ${source.registry} has ${budget.remaining} of ${budget.limit} pulls left; run again after its window resets` }));
      return false;
    }
    // The observation HEADed the destination tag; unless something says the root is there, the copy need not ask again.
    const absent = alone && item.sourceDigest !== undefined && named.get(item.destination)?.has(item.sourceDigest) !== true ? { absentAtDestination: item.sourceDigest } : {};
    const began = performance.now();
    const outcome = await attempt(
      () => ops.copy({ source: withTag(source, item.tag), destination: withTag(destination, item.tag), tag: item.tag, ...(platforms ? { platforms } : {}), ...absent }, op),
      signal,
    );
    const durationMs = Math.round(performance.now() - began);
    settle(i, recordOf(item, 'error' in outcome ? { durationMs, error: outcome.error } : { durationMs, bytes: outcome.value.bytes }));
    return true;
  };
  // Tags naming one image at one destination are copied one after another: the first moves the
  // blobs, the rest find them present and only write the manifest, rather than racing to upload the same blobs.
  const sameImage = groupBy(copies, (i) => `${plan[i]?.destination ?? ''}@${plan[i]?.sourceDigest ?? ''}`);
  await mapLimit(sameImage, options.concurrency ?? spec.defaults.concurrency ?? DEFAULT_IMAGE_CONCURRENCY, async (group) => {
    let started = false;
    for (const i of group) started = (await copyOne(i, !started)) || started;
  });

  for (const i of prunes) {
    const item = plan[i] as PlanItem;
    const repository = pruneTargets.find((r) => repositoryOf(r) === item.destination) as Reference;
    const began = performance.now();
    const outcome = await attempt(() => ops.untag(withTag(repository, item.tag), op), signal);
    const durationMs = Math.round(performance.now() - began);
    settle(i, recordOf(item, 'error' in outcome ? { durationMs, error: outcome.error } : { durationMs }));
  }

  return { records, summary: summarize(records, Math.round(performance.now() - started)), ...(stopped ? { stopped } : {}) };
}

interface ObserveContext {
  ops: MirrorOps;
  lookup: number;
  signal: AbortSignal | undefined;
  /** Destinations whose tags were already HEADed (for prune): no second HEAD. */
  knownDestination: ReadonlyMap<string, ReadonlyMap<string, string>>;
  inThisShard: (repo: string, tag: string) => boolean;
}

/** One observation per (source, selected tag, destination); HEADs only for this shard's tags. */
async function observe(listed: readonly Listed[], ctx: ObserveContext): Promise<ImageObservation[]> {
  const op = ctx.signal ? { signal: ctx.signal } : {};
  const unreadable = listed.flatMap((l) =>
    'error' in l ? l.source.destinations.map((d) => ({ source: l.source.repository, tag: WHOLE_REPOSITORY, destination: d.repository, error: l.error })) : [],
  );
  const jobs = listed.flatMap((l) => ('error' in l ? [] : l.tags.map((tag) => ({ source: l.source, tag }))));
  const perTag = await mapLimit(jobs, ctx.lookup, async ({ source, tag }): Promise<ImageObservation[]> => {
    const sourceName = repositoryOf(source.repository);
    const wanted = ctx.inThisShard(sourceName, tag);
    // Out-of-shard tags still count as kept for pruning, with what the destination listing saw.
    const platforms = source.platforms && source.platforms.length > 0 ? { platforms: source.platforms } : {};
    const src = wanted ? await attempt(() => ctx.ops.headDigest(withTag(source.repository, tag), { ...op, ...platforms, source: true }), ctx.signal) : undefined;
    return Promise.all(
      source.destinations.map(async (d): Promise<ImageObservation> => {
        const base = { source: source.repository, tag, destination: d.repository };
        const known = ctx.knownDestination.get(repositoryOf(d.repository));
        const dst = known !== undefined || !wanted ? { value: known?.get(tag) } : await attempt(() => ctx.ops.headDigest(withTag(d.repository, tag), op), ctx.signal);
        if (src !== undefined && 'error' in src) return { ...base, error: `source: ${src.error}` };
        if ('error' in dst) return { ...base, error: `destination: ${dst.error}` };
        if (src !== undefined && src.value === undefined) return { ...base, error: `${sourceName}:${tag} is gone from the source` };
        return { ...base, ...(src?.value === undefined ? {} : { sourceDigest: src.value }), ...(dst.value === undefined ? {} : { destinationDigest: dst.value }) };
      }),
    );
  });
  return [...unreadable, ...perTag.flat()];
}

/** Destination repository → the digests its tags named when the run HEADed them (selected tags, and every tag with prune). */
function namedDigests(observations: readonly ImageObservation[], known: ReadonlyMap<string, ReadonlyMap<string, string>>): Map<string, Set<string>> {
  const named = new Map<string, Set<string>>();
  const add = (destination: string, digest: string | undefined): void => {
    if (digest === undefined) return;
    const digests = named.get(destination) ?? new Set<string>();
    digests.add(digest);
    named.set(destination, digests);
  };
  for (const o of observations) add(repositoryOf(o.destination), o.destinationDigest);
  for (const [destination, tags] of known) for (const digest of tags.values()) add(destination, digest);
  return named;
}

/** Every tag of a destination → its digest, one HEAD each; a tag that vanished meanwhile is left out. */
async function headAll(repository: Reference, tags: readonly string[], ops: MirrorOps, lookup: number, signal: AbortSignal | undefined): Promise<Map<string, string>> {
  const digests = await mapLimit(tags, lookup, (tag) => ops.headDigest(withTag(repository, tag), signal ? { signal } : {}));
  return new Map(tags.flatMap((tag, i) => (digests[i] === undefined ? [] : [[tag, digests[i] as string] as const])));
}

interface SourcePair {
  source: Reference;
  destination: Reference;
  platforms?: MirrorSource['platforms'];
}

/** `source>destination` → the pair and its platforms; planMirror lets one pair be written from one source entry only. */
function sourcePairs(sources: readonly MirrorSource[]): Map<string, SourcePair> {
  const pairs = new Map<string, SourcePair>();
  for (const s of sources) {
    for (const d of s.destinations) {
      const key = `${repositoryOf(s.repository)}>${repositoryOf(d.repository)}`;
      if (!pairs.has(key)) pairs.set(key, { source: s.repository, destination: d.repository, ...(s.platforms ? { platforms: s.platforms } : {}) });
    }
  }
  return pairs;
}

function isLow(budget: RateBudget, reserve: number): boolean {
  return budget.limit > 0 && budget.remaining <= budget.limit * reserve;
}

/**
 * Runs `fn`, turning a GantryError into `{ error }` so one image's failure is data.
 * An abort is rethrown: the whole run stops. Other errors are programmer errors and propagate.
 */
async function attempt<T>(fn: () => Promise<T>, signal: AbortSignal | undefined): Promise<{ value: T } | { error: string }> {
  try {
    return { value: await fn() };
  } catch (err) {
    throwIfAborted(signal);
    if (err instanceof GantryError && err.code !== 'INTERRUPTED') return { error: err.message };
    throw err;
  }
}

/** Maps with at most `limit` calls in flight; results in input order. Rejects with the first rejection once the rest settle. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`mirror: concurrency must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return results;
}

/** The items grouped by key, groups in order of their first item. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group === undefined) groups.set(key(item), [item]);
    else group.push(item);
  }
  return [...groups.values()];
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}
