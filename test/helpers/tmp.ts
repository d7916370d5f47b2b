import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every dir this module made, and the ones not yet removed. */
const made = new Set<string>();
const live = new Set<string>();
let exitHookInstalled = false;

/**
 * Remove, synchronously, every temp dir still alive when the process exits, so
 * an aborted test run does not leave registries' storage behind.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const dir of live) rmSync(dir, { recursive: true, force: true });
    live.clear();
  });
}

function checkPrefix(prefix: string): void {
  if (!/^[A-Za-z0-9._-]{1,40}$/.test(prefix)) {
    throw new Error(`temp dir prefix must be 1-40 characters of [A-Za-z0-9._-], got ${JSON.stringify(prefix)}`);
  }
}

/**
 * Create a fresh, empty directory under the OS temp dir named
 * `gantry-<prefix>-XXXXXX` and track it for `removeTempDir`/`removeAllTempDirs`
 * (and for removal at process exit). Throws a plain Error on a bad prefix.
 */
export async function makeTempDir(prefix: string): Promise<string> {
  checkPrefix(prefix);
  installExitHook();
  const dir = await mkdtemp(join(tmpdir(), `gantry-${prefix}-`));
  made.add(dir);
  live.add(dir);
  return dir;
}

/** Synchronous `makeTempDir`, for the rare place that cannot await. */
export function makeTempDirSync(prefix: string): string {
  checkPrefix(prefix);
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), `gantry-${prefix}-`));
  made.add(dir);
  live.add(dir);
  return dir;
}

/**
 * Delete a directory made by `makeTempDir` with everything in it. Deleting
 * one that is already gone is fine; a path this module did not create is a
 * programmer error (a guard against `rm -rf` of the wrong place).
 */
export async function removeTempDir(dir: string): Promise<void> {
  if (!made.has(dir)) throw new Error(`refusing to remove ${dir}: not made by makeTempDir`);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  live.delete(dir);
}

/** Delete every directory `makeTempDir` made and that is still alive. */
export async function removeAllTempDirs(): Promise<void> {
  await Promise.all([...live].map((dir) => removeTempDir(dir)));
}

/** Run `fn` with a fresh temp dir and remove the dir afterwards, whatever `fn` does. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await makeTempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await removeTempDir(dir);
  }
}
