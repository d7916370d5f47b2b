import { GantryError } from '../errors/index.js';
import { abortError, throwIfAborted } from '../internal/abort.js';
import type { Descriptor } from '../media/types.js';
import type { ImageSource, ImageTarget } from '../transports/types.js';
import { copyBlob, type BlobOutcome } from './copy-blob.js';
import { createCopyRun, LOCAL_LIMITER_KEY } from './copy-run.js';
import type { TransferEvent } from './events.js';
import { planCopy, type PlannedImage, type PlannedManifest } from './plan.js';
import { findPresent } from './present.js';
import { DEFAULT_ATTEMPTS, DEFAULT_RETRY_DELAY_MS } from './retry.js';
import type { CopyImagesResult, CopyOptions, CopyRequest, CopyResult } from './types.js';

/**
 * Blobs in flight per copy when the caller does not say. Large layers gain
 * nothing past four streams but lose nothing either (8 × 64 MiB between two
 * registries: 1.59–1.66 s at 4, 6 and 8 alike; each stream holds only
 * bounded buffers). Many small layers are bound by request latency, where 8
 * keeps the registry's cores busy between round trips (docs/performance.md).
 */
export const DEFAULT_CONCURRENCY = 8;

type ManifestAction = 'copied' | 'skipped';

/**
 * Copies several roots from `source` to `target` in one run, sharing one
 * plan: a blob or manifest several roots (or platforms) have in common is
 * looked at and moved once. Blobs move in parallel (at most `concurrency`,
 * and at most the shared limiter's cap per key); each manifest is written
 * once every blob and child manifest it names is at the target; each root's
 * names are committed as soon as that root is written, so early roots are
 * usable before late ones finish, and no name ever points at missing content.
 * Names the target reports already pointing at a root it has
 * (`ImageTarget.namesAt`) are not written again. `options.names` is ignored:
 * each request carries its own.
 *
 * On a failure that retries cannot fix, nothing new starts (no blob, no
 * manifest, no commit), the work in flight settles, and the first error is
 * thrown with its GantryError code (DIGEST_MISMATCH stays DIGEST_MISMATCH).
 * Roots committed before that stay committed.
 *
 * @throws GantryError USAGE for a concurrency or attempts that is not a
 *   positive integer; INTERRUPTED when the signal aborts (the targets keep
 *   what they staged, so the same copy resumes); the first failure otherwise.
 */
export async function copyImages(
  source: ImageSource,
  target: ImageTarget,
  requests: readonly CopyRequest[],
  options: CopyOptions = {},
): Promise<CopyImagesResult> {
  const started = performance.now();
  const { signal } = options;
  const concurrency = positive(options.concurrency ?? DEFAULT_CONCURRENCY, 'concurrency');
  const attempts = positive(options.attempts ?? DEFAULT_ATTEMPTS, 'attempts');
  throwIfAborted(signal);

  const emit = (event: TransferEvent): void => options.onEvent?.(event);
  const run = createCopyRun({
    concurrency,
    attempts,
    retryDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
    signal,
    limiter: options.limiter,
    limiterKeys: options.limiterKeys ?? [source.origin.registry ?? LOCAL_LIMITER_KEY],
    ...(options.checkLimiterKeys ? { checkLimiterKeys: options.checkLimiterKeys } : {}),
  });

  // A transport may reject an aborted call with its own error; the caller asked for INTERRUPTED.
  const asAbort = (err: unknown): never => {
    throw signal?.aborted ? abortError(signal) : err;
  };
  const absentAtTarget = new Set(options.absentAtTarget);
  // The checks stop with the run: a failure elsewhere cancels those in flight.
  const checkSignal = run.either;
  // Each manifest is asked about once per run, whoever asks first.
  const asked = new Map<string, Promise<boolean>>();
  const has = (desc: Descriptor): Promise<boolean> => {
    let answer = asked.get(desc.digest);
    if (answer === undefined) {
      answer = absentAtTarget.has(desc.digest) ? Promise.resolve(false) : run.retried(() => target.hasManifest(desc, { signal: checkSignal }));
      asked.set(desc.digest, answer);
    }
    return answer;
  };
  const inPlace = new Map<string, Promise<Set<string>>>();
  const namesInPlace = (root: Descriptor, names: string[]): Promise<Set<string>> => {
    const key = `${root.digest} ${names.join(',')}`;
    let answer = inPlace.get(key);
    if (answer === undefined) {
      const ask = target.namesAt;
      // A root known to be absent has no name pointing at it.
      answer =
        ask === undefined || options.namesChecked === true || names.length === 0 || absentAtTarget.has(root.digest)
          ? Promise.resolve(new Set<string>())
          : run.retried(async () => new Set(await ask.call(target, root, names, { signal: checkSignal })));
      inPlace.set(key, answer);
    }
    return answer;
  };
  // Unfiltered, the roots written are the roots requested: ask the target about them while the
  // plan reads the source, rather than one round trip after it. Failures surface when awaited.
  if (!options.platforms?.length) {
    for (const request of requests) {
      for (const early of [has(request.root), namesInPlace(request.root, request.names)]) early.catch(() => undefined);
    }
  }
  // A failure before the transfer starts stops the run (no new slot, no retry, checks in flight
  // cancelled) and waits until nothing it asked is left: a check answered may lead to more
  // (findPresent walks down), so until the set stops growing.
  const failEarly = async (err: unknown): Promise<never> => {
    run.fail(err);
    for (let seen = -1; seen !== asked.size + inPlace.size; ) {
      seen = asked.size + inPlace.size;
      await Promise.allSettled([...asked.values(), ...inPlace.values()]);
    }
    return asAbort(err);
  };
  const plan = await planCopy(source, requests, { platforms: options.platforms, signal, run: run.slot }).catch(failEarly);
  emit({
    type: 'plan',
    image: source.description,
    blobs: plan.blobs,
    manifests: plan.manifests.map((m) => m.descriptor),
    totalBytes: plan.totalBytes,
  });

  const [found, alreadyNamed] = await Promise.all([
    findPresent(plan, has),
    Promise.all(plan.images.map((image) => namesInPlace(image.root.descriptor, image.names))),
  ]).catch(failEarly);
  const needed = new Set(found.neededBlobs.map((b) => b.digest));

  const blobOutcomes = new Map<string, BlobOutcome>();
  const blobTasks = new Map<string, Promise<BlobOutcome>>();
  for (const blob of plan.blobs) {
    if (!needed.has(blob.digest)) {
      // Only manifests the target already has name it, so the target has it too.
      const outcome: BlobOutcome = { action: 'skipped', bytesSent: 0 };
      blobOutcomes.set(blob.digest, outcome);
      emit({ type: 'blob-done', blob, ...outcome });
      blobTasks.set(blob.digest, Promise.resolve(outcome));
      continue;
    }
    emit({ type: 'blob-waiting', blob });
    const task = copyBlob({ source, target, run, emit }, blob).then((outcome) => {
      blobOutcomes.set(blob.digest, outcome);
      emit({ type: 'blob-done', blob, ...outcome });
      return outcome;
    });
    task.catch(run.fail);
    blobTasks.set(blob.digest, task);
  }

  // Roots the commit itself stores (a registry's PUT by tag): writing them by digest first
  // would be a request for nothing. Not a root that is also another manifest's child, which
  // must be there before its parent, nor one without names, which only the digest PUT stores.
  const children = new Set(plan.manifests.flatMap((m) => m.children.map((c) => c.descriptor.digest)));
  // A root some request gives no names is committed with none, which stores nothing: PUT it by digest.
  const nameless = new Set(plan.images.filter((image) => image.names.length === 0).map((image) => image.root.descriptor.digest));
  const storedByCommit = new Set(
    target.commitStoresRoot === true
      ? plan.images
          .map((image) => image.root.descriptor)
          .filter((root) => root.mediaType !== '' && !children.has(root.digest) && !nameless.has(root.digest))
          .map((root) => root.digest)
      : [],
  );

  const manifestOutcomes = new Map<string, ManifestAction>();
  const manifestTasks = new Map<string, Promise<ManifestAction>>();
  const writeManifest = (m: PlannedManifest): Promise<ManifestAction> => {
    let task = manifestTasks.get(m.descriptor.digest);
    if (task === undefined) {
      task = (async () => {
        const digest = m.descriptor.digest;
        let action: ManifestAction = 'skipped';
        // Everything below a manifest the target has is there too: record it as skipped, with no I/O.
        if (found.manifests.has(digest)) await Promise.all(m.children.map(writeManifest));
        else {
          await Promise.all([...m.blobs.map((b) => blobTasks.get(b.digest)), ...m.children.map(writeManifest)]);
          run.guard();
          action = await run.retried(async (): Promise<ManifestAction> => {
            if (!found.absent.has(digest) && (await target.hasManifest(m.descriptor, { signal }))) return 'skipped';
            if (!storedByCommit.has(digest)) await target.writeManifest(m.descriptor, m.bytes, { signal });
            return 'copied';
          });
        }
        manifestOutcomes.set(digest, action);
        // A root left to the commit is done when the commit has stored it (below), not before.
        if (action === 'skipped' || !storedByCommit.has(digest)) emit({ type: 'manifest-done', manifest: m.descriptor, action });
        return action;
      })();
      task.catch(run.fail);
      manifestTasks.set(m.descriptor.digest, task);
    }
    return task;
  };

  // Two requests may name one root: its manifest-done is reported once.
  const rootsReported = new Set<string>();
  const imageTasks = plan.images.map(async (image, i) => {
    await writeManifest(image.root);
    run.guard();
    // A name already pointing at a root the target has needs no write: a re-push PUTs nothing, and
    // the registry sends no push event for an unchanged tag (go-containerregistry and regclient skip it too).
    const inPlaceNames = found.manifests.has(image.root.descriptor.digest) ? (alreadyNamed[i] ?? new Set<string>()) : new Set<string>();
    const names = image.names.filter((name) => !inPlaceNames.has(name));
    if (names.length > 0 || image.names.length === 0) {
      await run.retried(() => target.commit(image.root.descriptor, names, { signal, bytes: image.root.bytes }));
    }
    const rootDigest = image.root.descriptor.digest;
    if (storedByCommit.has(rootDigest) && manifestOutcomes.get(rootDigest) === 'copied' && !rootsReported.has(rootDigest)) {
      rootsReported.add(rootDigest);
      emit({ type: 'manifest-done', manifest: image.root.descriptor, action: 'copied' });
    }
    emit({ type: 'committed', root: image.root.descriptor, names: image.names });
  });
  for (const task of imageTasks) task.catch(run.fail);

  await Promise.allSettled([...blobTasks.values(), ...manifestTasks.values(), ...imageTasks]);
  run.settle();

  // Only reached when every task succeeded, so every blob and manifest has its outcome recorded.
  const blobsOf = (blobs: Descriptor[]): CopyResult['blobs'] => blobs.map((b) => ({ digest: b.digest, size: b.size, ...recorded(blobOutcomes, b.digest) }));
  const manifestsOf = (manifests: PlannedManifest[]): CopyResult['manifests'] =>
    manifests.map((m) => ({ digest: m.descriptor.digest, action: recorded(manifestOutcomes, m.descriptor.digest) }));
  const durationMs = Math.round(performance.now() - started);
  const images = plan.images.map((image) =>
    imageResult(image, { source: source.description, target: target.description, durationMs }, blobsOf(image.blobs), manifestsOf(image.manifests)),
  );
  const blobs = blobsOf(plan.blobs);
  return { images, blobs, manifests: manifestsOf(plan.manifests), ...totals(blobs), durationMs };
}

/**
 * Copies one root (a manifest or an index) from `source` to `target`:
 * `copyImages` with a single request. The names committed are
 * `options.names`, else the names the source lists for that root.
 *
 * @throws as copyImages.
 */
export async function copyImage(source: ImageSource, target: ImageTarget, root: Descriptor, options: CopyOptions = {}): Promise<CopyResult> {
  const names = options.names ?? (await sourceNames(source, root, options.signal));
  const result = await copyImages(source, target, [{ root, names }], options);
  const [image] = result.images;
  if (image === undefined) throw new Error('copyImages returned no result for its only request');
  return image;
}

async function sourceNames(source: ImageSource, root: Descriptor, signal: AbortSignal | undefined): Promise<string[]> {
  const images = await source.images({ signal });
  return [...new Set(images.filter((i) => i.root.digest === root.digest).flatMap((i) => i.names))];
}

function recorded<T>(outcomes: Map<string, T>, digest: string): T {
  const outcome = outcomes.get(digest);
  if (outcome === undefined) throw new Error(`no outcome recorded for ${digest}`);
  return outcome;
}

function totals(blobs: CopyResult['blobs']): { bytesSent: number; bytesSkipped: number } {
  let bytesSent = 0;
  let bytesSkipped = 0;
  for (const b of blobs) {
    bytesSent += b.bytesSent;
    if (b.action !== 'copied') bytesSkipped += b.size;
  }
  return { bytesSent, bytesSkipped };
}

function imageResult(
  image: PlannedImage,
  common: { source: string; target: string; durationMs: number },
  blobs: CopyResult['blobs'],
  manifests: CopyResult['manifests'],
): CopyResult {
  const root = image.root.descriptor;
  return { ...common, digest: root.digest, mediaType: root.mediaType, names: image.names, blobs, manifests, ...totals(blobs) };
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new GantryError('USAGE', `${name} must be a positive integer, got ${String(value)}`, { details: { [name]: value } });
  }
  return value;
}
