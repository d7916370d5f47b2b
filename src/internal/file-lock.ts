import { GantryError } from '../errors/index.js';
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCode } from './error-code.js';
import { parseJson } from './parse-json.js';
import { makeDirs } from './make-dirs.js';

export interface FileLockOptions {
  /** Give up waiting for the lock after this long. Default 20 s. */
  timeoutMs?: number;
  /**
   * A lock file not touched for this long is stale (its owner hung, or died
   * on another host). Owners touch the file every third of this. Default 10 s.
   */
  staleMs?: number;
  signal?: AbortSignal;
}

/** Thrown when the lock stayed held by a live owner for the whole `timeoutMs`. */
export class FileLockTimeoutError extends GantryError {
  readonly lockPath: string;

  constructor(lockPath: string, timeoutMs: number) {
    // A user meets this (another gantry holds the store or config.json), so it is a GantryError, not a bug.
    super('LOCK_TIMEOUT', `timed out after ${timeoutMs} ms waiting for the lock ${lockPath}`, {
      hint: `another gantry process holds it; if none is running, remove ${lockPath}`,
      details: { lockPath },
    });
    this.name = 'FileLockTimeoutError';
    this.lockPath = lockPath;
  }
}

interface LockOwner {
  pid: number;
  host: string;
  token: string;
}

const MAX_SLEEP_MS = 100;

/**
 * Run `fn` while holding an advisory lock on `path` (the lock is the file
 * `path + '.lock'`, created with O_EXCL so exactly one process wins). Used
 * for read-modify-write of shared files: two `gantry login`s at once must not
 * lose each other's entries.
 *
 * Guarantees: the lock is released when `fn` settles, whatever the outcome; a
 * lock whose owner is a dead process on this host, or whose file has not been
 * touched for `staleMs`, is broken; waiting is bounded by `timeoutMs`.
 * Throws `FileLockTimeoutError` on timeout, the signal's reason on abort, an
 * `fs` error when the lock file cannot be created, and whatever `fn` throws.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const lockPath = `${path}.lock`;
  const staleMs = options.staleMs ?? 10_000;
  const owner = await acquire(lockPath, { timeoutMs: options.timeoutMs ?? 20_000, staleMs, signal: options.signal });
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(lockPath, now, now).catch(() => {
      // The lock file vanished or became unwritable: stop touching it; release checks ownership.
      clearInterval(heartbeat);
    });
  }, Math.max(50, Math.floor(staleMs / 3)));
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await release(lockPath, owner);
  }
}

async function acquire(lockPath: string, options: { timeoutMs: number; staleMs: number; signal: AbortSignal | undefined }): Promise<LockOwner> {
  const { timeoutMs, staleMs, signal } = options;
  const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(12).toString('hex') };
  await makeDirs(dirname(lockPath), 0o700);
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    if (await tryCreate(lockPath, owner)) return owner;
    const broken = await breakIfStale(lockPath, staleMs);
    if (Date.now() >= deadline) throw new FileLockTimeoutError(lockPath, timeoutMs);
    if (broken) continue;
    // Exponential up to MAX_SLEEP_MS, jittered so waiters do not retry in lockstep.
    const base = Math.min(MAX_SLEEP_MS, 5 * 2 ** Math.min(attempt, 5));
    try {
      await sleep(Math.round(base * (0.5 + Math.random())), undefined, { signal });
    } catch (err) {
      // timers/promises rejects with a generic AbortError; callers expect the reason they aborted with.
      if (signal?.aborted) throw signal.reason;
      throw err;
    }
  }
}

async function tryCreate(lockPath: string, owner: LockOwner): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx', 0o600);
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(JSON.stringify(owner));
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Remove a stale lock; resolves true when the lock is gone (retry at once).
 * The lock is first renamed aside and compared with what was judged stale, so
 * a lock freshly taken by someone else in between is put back, not deleted.
 */
async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  const seen = await readLock(lockPath);
  if (!seen) return true;
  const owner = parseOwner(seen.content);
  const ownerDied = owner !== undefined && owner.host === hostname() && !isAlive(owner.pid);
  if (!ownerDied && Date.now() - seen.mtimeMs <= staleMs) return false;

  const aside = `${lockPath}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockPath, aside);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return true;
    throw err;
  }
  const moved = await readLock(aside);
  if (moved && (moved.ino !== seen.ino || moved.content !== seen.content)) {
    try {
      await link(aside, lockPath);
    } catch (err) {
      // EEXIST: yet another process already holds a new lock; the one we moved lost it either way.
      if (errorCode(err) !== 'EEXIST') throw err;
    }
    await unlinkIfPresent(aside);
    return false;
  }
  await unlinkIfPresent(aside);
  return true;
}

async function release(lockPath: string, owner: LockOwner): Promise<void> {
  const current = await readLock(lockPath);
  // Our lock may have been broken as stale (we hung past staleMs); never delete someone else's.
  if (current && parseOwner(current.content)?.token === owner.token) await unlinkIfPresent(lockPath);
}

async function readLock(path: string): Promise<{ content: string; mtimeMs: number; ino: number } | undefined> {
  try {
    const info = await stat(path);
    const content = await readFile(path, 'utf8');
    return { content, mtimeMs: info.mtimeMs, ino: info.ino };
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

function parseOwner(content: string): LockOwner | undefined {
  // Not JSON: an empty or half-written file, its creator between open and write. Judge it by mtime alone.
  const { value } = parseJson(content);
  if (typeof value !== 'object' || value === null) return undefined;
  const { pid, host, token } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || typeof host !== 'string' || typeof token !== 'string') return undefined;
  return { pid, host, token };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return errorCode(err) === 'EPERM';
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
}
