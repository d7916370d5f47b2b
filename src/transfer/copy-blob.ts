import { GantryError, RegistryError } from '../errors/index.js';
import { abortError } from '../internal/abort.js';
import type { Descriptor } from '../media/types.js';
import type { BlobAction, BlobReader, ImageSource, ImageTarget } from '../transports/types.js';
import type { TransferEventHandler } from './events.js';
import type { CopyRun } from './copy-run.js';
import { isFinal, withRetries, type RetryOptions } from './retry.js';

/** What happened to one blob. */
export interface BlobOutcome {
  action: BlobAction;
  /** Bytes actually moved: the blob's size minus a resumed prefix; 0 when skipped or mounted. */
  bytesSent: number;
  mountedFrom?: string;
}

export interface CopyBlobContext {
  source: ImageSource;
  target: ImageTarget;
  run: CopyRun;
  emit: TransferEventHandler;
}

/**
 * Brings one blob to the target: skipped when the target has it, mounted
 * when the target can mount it from the source's repository, else copied,
 * resuming from what the target has staged. Each attempt asks has → mount
 * under a check slot, then, if the blob must move, runs open → write (→ the
 * target's verify) under a transfer slot; failed attempts are retried per
 * `withRetries`, corruption included.
 *
 * The target verifies and publishes; this only promises the outcome it
 * returns is what the target reported, and that a rejection means the blob
 * must be treated as missing.
 *
 * @throws the last attempt's error (GantryError codes preserved);
 *   INTERRUPTED when the signal aborts.
 */
export async function copyBlob(ctx: CopyBlobContext, desc: Descriptor): Promise<BlobOutcome> {
  const { source, target, run } = ctx;
  const { signal } = run;
  const { origin } = source;
  // A mount the target declined once will be declined again: ask once per blob.
  let mountable = true;

  // Where the last attempt's write began: 0 when every byte the target checked came from this source read.
  let writeFrom: number | undefined;
  // Is it there already, or can it be mounted? Round trips that need no transfer slot.
  const check = async (): Promise<BlobOutcome | undefined> => {
    if (await target.hasBlob(desc, { signal })) return { action: 'skipped', bytesSent: 0 };
    if (mountable && target.tryMount !== undefined) {
      const mounted = await target.tryMount(desc, origin, { signal });
      const from = mounted === true ? origin.repository : mounted === false ? undefined : mounted;
      if (mounted !== false) return { action: 'mounted', bytesSent: 0, ...(from !== undefined ? { mountedFrom: from } : {}) };
      mountable = false;
    }
    return undefined;
  };
  const transfer = async (): Promise<BlobOutcome> => {
    // The copy may have failed elsewhere while we asked: open no new transfer then.
    run.guard();
    // A copy beside this one (mirror) may have sent it while this one waited for a slot.
    if (target.knownPresent?.(desc)) return { action: 'skipped', bytesSent: 0 };
    const staged = await target.stagedBytes(desc, { signal });
    // A target reporting more than the blob holds has nothing usable staged.
    const from = Number.isSafeInteger(staged) && staged >= 0 && staged <= desc.size ? staged : 0;
    let reader: BlobReader;
    try {
      reader = await source.blob(desc, { signal, from });
    } catch (err) {
      // A local file of the wrong size is refused as it is opened: that is the file's, whatever `from` is.
      if (isOwnIntegrityCheck(err)) writeFrom = 0;
      throw err;
    }
    if (reader.offset !== from && reader.offset !== 0) {
      reader.body.destroy();
      throw new Error(`${source.description} answered offset ${reader.offset} for ${desc.digest}; the contract allows ${from} or 0`);
    }
    // reader.offset is 0 when the source cannot seek: the target then restarts the blob from 0.
    writeFrom = reader.offset;
    await write(ctx, desc, reader);
    return { action: 'copied', bytesSent: desc.size - reader.offset };
  };

  // A local file that fails gantry's own check, read whole in this attempt, is corrupt: another
  // read gives the same bytes. Not so for a staged prefix the check also covered (a resumed
  // write), nor for a registry refusing what it received (bytes may change in transit).
  const local = origin.registry === undefined;
  const sourceIsCorrupt = (err: unknown): err is GantryError => local && writeFrom === 0 && isOwnIntegrityCheck(err);
  const retry: RetryOptions = {
    attempts: run.attempts,
    delayMs: run.retryDelayMs,
    ...(signal ? { signal } : {}),
    stop: run.stop,
    onRetry: (n, error) => ctx.emit({ type: 'blob-retry', blob: desc, attempt: n, error }),
    retryable: (err) => !sourceIsCorrupt(err),
  };
  let final: unknown;
  // A failure that ends this blob fails the run before its slot passes on: the next check or
  // transfer waiting for that slot must not start.
  const failingFinally =
    <T>(step: () => Promise<T>, n: number) =>
    async (): Promise<T> => {
      try {
        return await step();
      } catch (err) {
        if (isFinal(err, n, retry)) {
          final = sourceIsCorrupt(err) ? corruptAtSource(err, source.description) : err;
          run.fail(final);
          throw final;
        }
        throw err;
      }
    };
  const attempt = async (n: number): Promise<BlobOutcome> => {
    writeFrom = undefined;
    const checked = await run.check(failingFinally(check, n));
    if (checked !== undefined) return checked;
    return run.slot(failingFinally(transfer, n));
  };
  return withRetries(attempt, retry).catch((err: unknown) => {
    throw err === final || !sourceIsCorrupt(err) ? err : corruptAtSource(err, source.description);
  });
}

/**
 * gantry's own size or digest check failed, not a registry's verdict: the
 * upload session reports a refusal with the registry's answer as its cause
 * or the registry's URL in its details.
 */
function isOwnIntegrityCheck(err: unknown): err is GantryError {
  if (!(err instanceof GantryError) || err instanceof RegistryError) return false;
  if (err.code !== 'DIGEST_MISMATCH' && err.code !== 'SIZE_MISMATCH') return false;
  return !(err.cause instanceof RegistryError) && err.details?.url === undefined;
}

function corruptAtSource(err: GantryError, source: string): GantryError {
  return new GantryError(err.code, `${err.message}, as read from ${source}`, {
    hint: "The source's copy of this blob is corrupt (a local file: gantry did not retry, it would read the same bytes). Get the image again from where it came, then rerun.",
    cause: err,
    ...(err.details ? { details: err.details } : {}),
  });
}

async function write(ctx: CopyBlobContext, desc: Descriptor, reader: BlobReader): Promise<void> {
  const { body, offset } = reader;
  const { signal } = ctx.run;
  // Destroying the body makes even a target that ignores the signal stop
  // promptly; the partial it wrote stays staged for the next run.
  const onAbort = (): void => {
    body.destroy(abortError(signal as AbortSignal));
  };
  const onEnd = (): void => ctx.emit({ type: 'blob-verifying', blob: desc });
  signal?.addEventListener('abort', onAbort, { once: true });
  // An 'end' listener observes without switching the stream to flowing mode.
  body.once('end', onEnd);
  ctx.emit({ type: 'blob-progress', blob: desc, bytes: offset, resumedFrom: offset });
  try {
    if (signal?.aborted) throw abortError(signal);
    await ctx.target.writeBlob(desc, body, {
      from: offset,
      signal,
      onProgress: (bytes) => ctx.emit({ type: 'blob-progress', blob: desc, bytes, resumedFrom: offset }),
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    body.off('end', onEnd);
    // A target that failed (or returned) without draining must not leave the source's connection open.
    if (!body.destroyed && !body.readableEnded) body.destroy();
  }
}
