import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { errorCode, unlinkIfPresent } from '../../internal/blob-file.js';
import { stateDir, type PathEnv } from './paths.js';
import { makeDirs } from '../../internal/make-dirs.js';

/*
 * In-flight copies pin the store so garbage collection leaves their blobs
 * alone. Blobs of a copy are written (and existing ones relied upon) before
 * its commit names them, so until then nothing in index.json reaches them and
 * a collector walking index.json would delete them. Rather than guess with
 * an age threshold (a slow pull can outlast any N minutes, and a blob reused
 * from an old unreferenced one is old), each copy that touches the store
 * holds a pin file, created under the store's index lock; the collector,
 * under the same lock, deletes blobs only when no live pin exists. A copy
 * that starts after the collection holds the lock only after it has finished,
 * so it sees the collected store; one that started before defers the
 * collection. Deferred garbage is collected by the next `rmi` (or
 * `collectGarbage`) that runs alone.
 */

interface PinOwner {
  pid: number;
  host: string;
}

// A pin left by a process on another host cannot be checked for liveness;
// after a day it is taken as abandoned (no copy holds a store that long).
const FOREIGN_PIN_MAX_AGE_MS = 24 * 60 * 60 * 1000;

function pinsDir(env: PathEnv): string {
  return join(stateDir(env), 'pins');
}

/** A held pin; `release()` removes it (idempotent). */
export interface StorePin {
  release(): Promise<void>;
}

/** Create a pin file. The caller holds the store lock. */
export async function createPin(env: PathEnv): Promise<StorePin> {
  const dir = pinsDir(env);
  await makeDirs(dir);
  const path = join(dir, `${process.pid}-${randomBytes(6).toString('hex')}.json`);
  const owner: PinOwner = { pid: process.pid, host: hostname() };
  await writeFile(path, JSON.stringify(owner), { mode: 0o644, flag: 'wx' });
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await unlinkIfPresent(path);
    },
  };
}

/**
 * How many pins belong to live copies. Pins of dead processes on this host
 * (a killed gantry) and old pins from other hosts are removed on the way.
 * The caller holds the store lock.
 */
export async function countLivePins(env: PathEnv): Promise<number> {
  const dir = pinsDir(env);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return 0;
    throw err;
  }
  let live = 0;
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const path = join(dir, name);
    if (await isLive(path)) live++;
    else await unlinkIfPresent(path);
  }
  return live;
}

async function isLive(path: string): Promise<boolean> {
  let content: string;
  let mtimeMs: number;
  try {
    [content, mtimeMs] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => s.mtimeMs)]);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
  const owner = parseOwner(content);
  if (owner === undefined) return Date.now() - mtimeMs < FOREIGN_PIN_MAX_AGE_MS;
  if (owner.host !== hostname()) return Date.now() - mtimeMs < FOREIGN_PIN_MAX_AGE_MS;
  return processExists(owner.pid);
}

function parseOwner(content: string): PinOwner | undefined {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (err) {
    // Written with one writeFile call, so a half-written pin is a crash mid-write: judged by age.
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
  const { pid, host } = (value ?? {}) as Record<string, unknown>;
  return typeof pid === 'number' && typeof host === 'string' ? { pid, host } : undefined;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return errorCode(err) === 'EPERM';
  }
}
