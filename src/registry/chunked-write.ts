import { once } from 'node:events';
import { finished as whenFinished, PassThrough, Writable, type Readable } from 'node:stream';
import { GantryError } from '../errors/index.js';
import { abortError } from '../internal/abort.js';

/** Sends one part (a stream the writer feeds and then ends) and resolves once the receiver confirmed it. */
export type SendPart = (part: Readable, signal: AbortSignal, bytes: () => number) => Promise<void>;

export interface ChunkedWriteOptions {
  /** Largest part, in bytes. */
  chunkBytes: number;
  /** Exact bytes the body must hold (SIZE_MISMATCH otherwise); undefined: any. */
  length?: number;
  /** Where the bytes start, for SIZE_MISMATCH messages. */
  offset?: number;
  /** Names the content in errors. */
  label: string;
  sendPart: SendPart;
  /** Called with the bytes handed to parts so far. */
  onBytes?: (sent: number) => void;
  signal?: AbortSignal;
  /** How long a part ended early may take to be confirmed before it is cut (default 5 s). */
  graceMs?: number;
}

/** Bytes buffered between the body and the request of a part: enough to keep the socket busy, bounded. */
const PART_BUFFER_BYTES = 1024 * 1024;
const DEFAULT_GRACE_MS = 5_000;

interface OpenPart {
  stream: PassThrough;
  bytes: number;
  /** Aborts the part's request: only when an early end is not confirmed in time. */
  cut: AbortController;
  done: Promise<void>;
  ended: boolean;
  /** Its request failed, or answered before the part was ended: nothing to end gracefully. */
  broken: boolean;
}

/**
 * Split `body` into parts of at most `chunkBytes` and hand each to
 * `sendPart`, one at a time, with backpressure end to end. Resolves the
 * bytes sent once every part is confirmed.
 *
 * When the body fails, holds more or fewer than `length` bytes, or the
 * signal aborts, the part in flight is ended early rather than cut, and
 * given `graceMs` to be confirmed: a receiver that keeps whatever arrived
 * then still agrees with the sender on where the content stands. The
 * original error is thrown after that (INTERRUPTED for an abort). When a
 * part's request fails, its error is thrown. On any failure the body is
 * destroyed.
 */
export async function writeInChunks(body: Readable, options: ChunkedWriteOptions): Promise<number> {
  const { chunkBytes, length, signal } = options;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) throw new Error(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  // One signal for "stop waiting": the caller aborted, or the part in flight failed. Every wait below
  // listens to it for its own duration only, so nothing accumulates over a long body.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(abortError(signal as AbortSignal));
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  let part: OpenPart | undefined;
  let sent = 0;
  let finished = false;

  const openPart = (): OpenPart => {
    const opened: OpenPart = { stream: new PassThrough({ highWaterMark: PART_BUFFER_BYTES }), bytes: 0, cut: new AbortController(), done: Promise.resolve(), ended: false, broken: false };
    opened.done = options.sendPart(opened.stream, opened.cut.signal, () => opened.bytes).then(
      () => {
        if (opened.ended) return;
        opened.broken = true;
        const early = new GantryError('REGISTRY_ERROR', `${options.label}: the receiver confirmed a part before it was complete`);
        stop.abort(early);
        throw early;
      },
      (err: unknown) => {
        opened.broken = true;
        if (!opened.ended) stop.abort(err);
        throw err;
      },
    );
    // Observed here; whoever waits on it sees the outcome too.
    opened.done.catch((err: unknown) => err);
    return opened;
  };

  const closePart = (closing: OpenPart): Promise<void> => {
    if (!closing.ended) {
      closing.ended = true;
      closing.stream.end();
    }
    return closing.done;
  };

  let bodyError: unknown;
  // The body is piped into a sink rather than iterated: a layer arrives as
  // thousands of socket-sized chunks, and a promise plus an abort listener
  // per chunk was a measurable share of a copy's CPU. Waits (a full part
  // buffer, a part's confirmation) are rare and still listen to `stop`.
  const feed = (chunk: Buffer, done: (err?: Error | null) => void): void => {
    try {
      feedParts(chunk, done);
    } catch (err) {
      // onBytes (a progress listener) may throw: here that would escape into the body's 'data'
      // event or a detached promise, and the write would never complete.
      done(err as Error);
    }
  };
  const feedParts = (chunk: Buffer, done: (err?: Error | null) => void): void => {
    while (chunk.length > 0) {
      part ??= openPart();
      const open = part;
      const piece = chunk.length > chunkBytes - open.bytes ? chunk.subarray(0, chunkBytes - open.bytes) : chunk;
      chunk = chunk.subarray(piece.length);
      open.bytes += piece.length;
      sent += piece.length;
      const flowing = open.stream.write(piece);
      options.onBytes?.(sent);
      const rest = chunk;
      if (open.bytes >= chunkBytes) {
        untilStopped(closePart(open), stop.signal).then(() => {
          part = undefined;
          feed(rest, done);
        }, done);
        return;
      }
      if (!flowing) {
        // once() also rejects when the part's stream errors before `stop` does: that error is a failure too.
        once(open.stream, 'drain', { signal: stop.signal }).then(
          () => feed(rest, done),
          (err: unknown) => done((stop.signal.aborted ? stop.signal.reason : err) as Error),
        );
        return;
      }
    }
    done();
  };
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (length !== undefined && sent + bytes.length > length) callback(tooLong(options, sent + bytes.length));
      else feed(bytes, callback);
    },
    final(callback) {
      finished = true;
      // A failed body ends the sink too (below), once what it delivered went
      // out: its error is the one to report, and the part in flight is
      // ended early (with a grace period) on the way out.
      if (bodyError !== undefined) return callback();
      if (length !== undefined && sent < length) return callback(tooShort(options, sent));
      if (!part) return callback();
      const last = part;
      untilStopped(closePart(last), stop.signal).then(() => {
        part = undefined;
        callback();
      }, callback);
    },
  });
  const onStop = (): void => {
    sink.destroy(stop.signal.reason as Error);
  };
  stop.signal.addEventListener('abort', onStop, { once: true });

  // Piped rather than pipeline()d: when the body fails, what it delivered
  // before still goes out and the part in flight is ended early, not cut
  // (pipeline would destroy the sink with its buffered chunks).
  // finished() rather than an 'error' listener: a body destroyed without an
  // error, or already failed, emits neither 'end' nor 'error', and pipe()
  // would then never end the sink.
  let unwatchBody: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      // A signal aborted before the call: no part is opened, no byte sent.
      if (stop.signal.aborted) return reject(stop.signal.reason);
      unwatchBody = whenFinished(body, { writable: false }, (err) => {
        if (!err || bodyError !== undefined) return;
        bodyError = err;
        if (!sink.destroyed) sink.end();
      });
      sink.once('finish', () => (bodyError === undefined ? resolve() : reject(bodyError)));
      sink.once('error', (err) => reject(bodyError ?? err));
      body.pipe(sink);
    });
    return sent;
  } catch (err) {
    if (part && !part.broken) await endEarly(part, options.graceMs ?? DEFAULT_GRACE_MS);
    else part?.stream.destroy();
    if (!finished) body.destroy();
    if (signal?.aborted) throw abortError(signal);
    throw stop.signal.aborted ? stop.signal.reason : err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stop.signal.removeEventListener('abort', onStop);
    unwatchBody?.();
  }

  async function endEarly(open: OpenPart, graceMs: number): Promise<void> {
    const timer = setTimeout(() => open.cut.abort(), graceMs);
    try {
      await closePart(open);
    } catch (err) {
      // The original failure is what the caller must see; the part's fate only decides where a resume starts.
      if (!(err instanceof Error)) throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `work`'s outcome, or a rejection with the stop reason as soon as `stop` aborts; the listener lives only as long as the wait. */
function untilStopped<T>(work: Promise<T>, stop: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onStop = (): void => reject(stop.reason);
    if (stop.aborted) onStop();
    else stop.addEventListener('abort', onStop, { once: true });
    work.then(
      (value) => {
        stop.removeEventListener('abort', onStop);
        resolve(value);
      },
      (err: unknown) => {
        stop.removeEventListener('abort', onStop);
        reject(err);
      },
    );
  });
}

function tooLong(options: ChunkedWriteOptions, atLeast: number): GantryError {
  const start = options.offset ?? 0;
  return new GantryError('SIZE_MISMATCH', `size mismatch for ${options.label}: more than the expected ${start + (options.length ?? 0)} bytes (at least ${start + atLeast})`, {
    details: { expectedSize: start + (options.length ?? 0), receivedAtLeast: start + atLeast },
  });
}

function tooShort(options: ChunkedWriteOptions, received: number): GantryError {
  const start = options.offset ?? 0;
  return new GantryError('SIZE_MISMATCH', `size mismatch for ${options.label}: received ${start + received} of the expected ${start + (options.length ?? 0)} bytes`, {
    details: { expectedSize: start + (options.length ?? 0), received: start + received },
  });
}
