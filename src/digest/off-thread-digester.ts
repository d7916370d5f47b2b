import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { GantryError } from '../errors/index.js';
import { quote } from '../internal/quote.js';
import { SUPPORTED_ALGORITHMS, nodeHashName } from './algorithms.js';

/**
 * Hashing on worker threads, for large blobs.
 *
 * Why: a pull is bound by the main thread, and sha256 is the largest single
 * piece of it (0.23 s of a 1.0 s pull of 8 × 64 MiB on this machine kind:
 * measured by turning it off). A worker hashes while the main thread keeps
 * receiving and writing, so two cores share the work, as skopeo's goroutines
 * do. Bytes are batched (a copy into one buffer, then moved to the worker
 * without a second copy), so a 64 KiB socket chunk costs a memcpy, not a
 * message. Small content stays on `createDigester`: starting a worker costs
 * more than hashing a few MiB.
 */

/** An incremental hash whose result arrives asynchronously. */
export interface AsyncDigester {
  readonly algorithm: string;
  /** Feed bytes (copied; the caller may reuse `chunk` at once). */
  update(chunk: Uint8Array): void;
  /**
   * Feed the bytes `start..end` of the file at `path`, read by the worker
   * (so the main thread neither copies nor hashes them): for content the
   * caller has just written there. Ranges must follow one another and the
   * file must not change until the digest is taken.
   */
  updateFromFile(path: string, start: number, end: number): void;
  /**
   * Undefined when the worker keeps up; else a promise that resolves once it
   * has caught up enough to take more. Callers that stream wait on it, so
   * memory stays bounded when hashing is slower than the network.
   */
  ready(): Promise<void> | undefined;
  /** `algorithm:hex` of everything fed. Ends the digester. */
  digest(): Promise<string>;
  /** Give up without a result (the copy failed): frees the worker's state. Idempotent; a no-op after `digest`. */
  dispose(): void;
}

/**
 * Content from this size on is worth hashing on a worker: below it, hashing
 * in place costs less than the worker's start-up (about 20 ms of a core).
 */
export const OFF_THREAD_HASH_BYTES = 8 * 1024 * 1024;

/** Bytes gathered before they go to the worker in one message. */
const BATCH_BYTES = 512 * 1024;
/** Bytes sent and not yet hashed beyond which `ready()` asks the caller to wait. */
const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;

// The worker: builtins only, evaluated from this string so that the
// single-file bundle needs no second file. Dynamic imports, because the string
// runs as CommonJS or as a module depending on the parent's flags
// (--input-type); messages wait on the port until the listener is attached.
const WORKER_SOURCE = `
Promise.all([import('node:worker_threads'), import('node:crypto'), import('node:fs')]).then(([{ parentPort }, { createHash }, { openSync, readSync, closeSync }]) => {
const hashes = new Map();
const files = new Map();
const buffer = Buffer.allocUnsafe(1024 * 1024);
function closeFile(id) {
  const file = files.get(id);
  if (file) closeSync(file.fd);
  files.delete(id);
}
function hashFile(m) {
  let file = files.get(m.id);
  if (!file || file.path !== m.path) {
    closeFile(m.id);
    file = { path: m.path, fd: openSync(m.path, 'r') };
    files.set(m.id, file);
  }
  const hash = hashes.get(m.id);
  let at = m.start;
  while (at < m.end) {
    const n = readSync(file.fd, buffer, 0, Math.min(buffer.length, m.end - at), at);
    if (n === 0) throw new Error(m.path + ' ends at ' + at + ', before ' + m.end);
    hash.update(buffer.subarray(0, n));
    at += n;
  }
}
parentPort.on('message', (m) => {
  try {
    if (m.op === 'start') hashes.set(m.id, createHash(m.hash));
    else if (m.op === 'update') {
      hashes.get(m.id).update(new Uint8Array(m.bytes, 0, m.length));
      parentPort.postMessage({ id: m.id, op: 'hashed', length: m.length });
    } else if (m.op === 'file') {
      hashFile(m);
      parentPort.postMessage({ id: m.id, op: 'hashed', length: m.end - m.start });
    } else if (m.op === 'digest') {
      closeFile(m.id);
      const hex = hashes.get(m.id).digest('hex');
      hashes.delete(m.id);
      parentPort.postMessage({ id: m.id, op: 'digest', hex });
    } else if (m.op === 'drop') {
      closeFile(m.id);
      hashes.delete(m.id);
    }
  } catch (err) {
    closeFile(m.id);
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, op: 'error', message: String(err && err.message || err) });
  }
});
});
`;

interface Job {
  onHashed(length: number): void;
  onDigest(hex: string): void;
  onError(error: Error): void;
}

interface HashWorker {
  worker: Worker;
  jobs: Map<number, Job>;
}

const pool: HashWorker[] = [];
let nextWorker = 0;
let nextId = 0;

function poolSize(): number {
  // One core stays with the main thread (network and file writes).
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

function startWorker(): HashWorker {
  const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'gantry-hash' });
  const entry: HashWorker = { worker, jobs: new Map() };
  // Idle workers must not keep the process alive; busy ones must (a pending digest is all that may be left).
  worker.unref();
  worker.on('message', (m: { id: number; op: string; length?: number; hex?: string; message?: string }) => {
    const job = entry.jobs.get(m.id);
    if (!job) return;
    if (m.op === 'hashed') job.onHashed(m.length ?? 0);
    else if (m.op === 'digest') {
      release(entry, m.id);
      job.onDigest(m.hex ?? '');
    } else if (m.op === 'error') {
      release(entry, m.id);
      job.onError(new Error(`hash worker: ${m.message ?? 'failed'}`));
    }
  });
  const fail = (error: Error): void => {
    const index = pool.indexOf(entry);
    if (index >= 0) pool.splice(index, 1);
    for (const job of entry.jobs.values()) job.onError(error);
    entry.jobs.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`hash worker exited with code ${code}`)));
  return entry;
}

function acquire(): HashWorker {
  if (pool.length < poolSize()) pool.push(startWorker());
  const entry = pool[nextWorker++ % pool.length] as HashWorker;
  return entry;
}

function release(entry: HashWorker, id: number): void {
  entry.jobs.delete(id);
  if (entry.jobs.size === 0) entry.worker.unref();
}

/**
 * An AsyncDigester for `algorithm` (sha256 or sha512) that hashes on a
 * worker thread shared with other digesters.
 *
 * @throws GantryError `UNSUPPORTED` for any other algorithm.
 */
export function createOffThreadDigester(algorithm = 'sha256'): AsyncDigester {
  const hash = nodeHashName(algorithm);
  if (hash === undefined) {
    throw new GantryError('UNSUPPORTED', `unsupported digest algorithm ${quote(algorithm)}`, {
      hint: `gantry can compute ${SUPPORTED_ALGORITHMS.join(' and ')} digests.`,
      details: { algorithm },
    });
  }
  const entry = acquire();
  const id = nextId++;
  // The batch being filled: chunks are copied in as they come (the caller may reuse its own).
  let batch: Buffer | undefined;
  let batchBytes = 0;
  let inFlight = 0;
  let failure: Error | undefined;
  let ended = false;
  let waiting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  let result: { resolve: (hex: string) => void; reject: (error: Error) => void } | undefined;

  const wake = (): void => {
    const w = waiting;
    waiting = undefined;
    if (failure) w?.reject(failure);
    else w?.resolve();
  };

  entry.jobs.set(id, {
    onHashed(length) {
      inFlight -= length;
      if (inFlight <= MAX_IN_FLIGHT_BYTES / 2) wake();
    },
    onDigest(hex) {
      result?.resolve(`${algorithm}:${hex}`);
    },
    onError(error) {
      failure = error;
      wake();
      result?.reject(error);
    },
  });
  entry.worker.ref();
  entry.worker.postMessage({ op: 'start', id, hash });

  const send = (): void => {
    if (batch === undefined || batchBytes === 0) return;
    const bytes = batch.buffer as ArrayBuffer;
    const length = batchBytes;
    inFlight += length;
    batch = undefined;
    batchBytes = 0;
    // Moved, not copied: the buffer came from allocUnsafeSlow, so it is its own ArrayBuffer and nothing else is detached.
    entry.worker.postMessage({ op: 'update', id, bytes, length }, [bytes]);
  };

  const finish = (): void => {
    ended = true;
    batch = undefined;
    batchBytes = 0;
  };

  return {
    algorithm,
    update(chunk) {
      if (ended) throw new Error('digester already ended');
      if (failure) throw failure;
      let at = 0;
      while (at < chunk.byteLength) {
        batch ??= Buffer.allocUnsafeSlow(BATCH_BYTES);
        const n = Math.min(chunk.byteLength - at, BATCH_BYTES - batchBytes);
        batch.set(chunk.subarray(at, at + n), batchBytes);
        batchBytes += n;
        at += n;
        if (batchBytes === BATCH_BYTES) send();
      }
    },
    updateFromFile(path, start, end) {
      if (ended) throw new Error('digester already ended');
      if (failure) throw failure;
      if (end <= start) return;
      send();
      inFlight += end - start;
      entry.worker.postMessage({ op: 'file', id, path, start, end });
    },
    ready() {
      if (failure) return Promise.reject(failure);
      if (inFlight <= MAX_IN_FLIGHT_BYTES) return undefined;
      return new Promise<void>((resolve, reject) => {
        waiting = { resolve, reject };
      });
    },
    digest() {
      if (ended) return Promise.reject(new Error('digester already ended'));
      if (failure) {
        finish();
        return Promise.reject(failure);
      }
      send();
      finish();
      return new Promise<string>((resolve, reject) => {
        result = { resolve, reject };
        entry.worker.postMessage({ op: 'digest', id });
      });
    },
    dispose() {
      if (ended) return;
      finish();
      release(entry, id);
      entry.worker.postMessage({ op: 'drop', id });
    },
  };
}
