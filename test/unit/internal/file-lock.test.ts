import { spawnSync } from 'node:child_process';
import { mkdtemp, open, readdir, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileLockTimeoutError, withFileLock } from '../../../src/internal/file-lock.js';
import { runTsChild } from '../../helpers/credential-helper/ts-child.js';

let dir: string;
let target: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-lock-'));
  target = join(dir, 'config.json');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(result.stdout);
}

async function writeLock(owner: { pid: number; host: string; token: string }, ageMs = 0): Promise<void> {
  await writeFile(`${target}.lock`, JSON.stringify(owner));
  const when = new Date(Date.now() - ageMs);
  await utimes(`${target}.lock`, when, when);
}

/** Increment the counter file with a yield in between, so unlocked increments would be lost. */
async function increment(path: string): Promise<void> {
  const value = Number(await readFile(path, 'utf8').catch(() => '0'));
  await sleep(1);
  await writeFile(path, String(value + 1));
}

describe('withFileLock', () => {
  it('lets one holder in at a time, so concurrent read-modify-writes lose nothing', async () => {
    const counter = join(dir, 'counter');
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 25 }, () =>
        withFileLock(target, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await increment(counter);
          inside--;
        }),
      ),
    );
    expect(await readFile(counter, 'utf8')).toBe('25');
    expect(maxInside).toBe(1);
  });

  it('excludes another process holding the same lock', async () => {
    const counter = join(dir, 'counter');
    const inside = join(dir, 'inside');
    // Each holder creates `inside` exclusively and removes it on the way out: two holders at once would fail with EEXIST.
    const body = `
      const { withFileLock } = await load('src/internal/file-lock.ts');
      const fs = await import('node:fs/promises');
      for (let i = 0; i < args.rounds; i++) {
        await withFileLock(args.target, async () => {
          await fs.writeFile(args.inside, 'child', { flag: 'wx' });
          const value = Number(await fs.readFile(args.counter, 'utf8').catch(() => '0'));
          await new Promise((r) => setTimeout(r, 2));
          await fs.writeFile(args.counter, String(value + 1));
          await fs.unlink(args.inside);
        });
      }
      return 'done';
    `;
    let childDone = false;
    const child = runTsChild({ body, args: { target, counter, inside, rounds: 40 } }).finally(() => (childDone = true));
    // Keep contending for as long as the child runs, so the two really overlap.
    let rounds = 0;
    for (; (rounds < 20 || !childDone) && rounds < 20_000; rounds++) {
      await withFileLock(target, async () => {
        await writeFile(inside, 'parent', { flag: 'wx' });
        await increment(counter);
        await unlink(inside);
      });
    }
    await expect(child).resolves.toEqual({ ok: true, value: 'done' });
    expect(await readFile(counter, 'utf8')).toBe(String(rounds + 40));
  });

  it('releases the lock when the function throws, and passes the error on', async () => {
    await expect(
      withFileLock(target, async () => {
        throw new Error('inner failure');
      }),
    ).rejects.toThrow('inner failure');
    expect(await readdir(dir)).toEqual([]);
    await expect(withFileLock(target, async () => 'again', { timeoutMs: 200 })).resolves.toBe('again');
  });

  it('returns what the function returns and removes the lock file', async () => {
    await expect(withFileLock(target, async () => 42)).resolves.toBe(42);
    expect(await readdir(dir)).toEqual([]);
  });

  it('gives up with FileLockTimeoutError while a live process holds a fresh lock', async () => {
    await writeLock({ pid: process.pid, host: hostname(), token: 'someone-else' });
    const started = Date.now();
    const attempt = withFileLock(target, async () => 'never', { timeoutMs: 300 });
    await expect(attempt).rejects.toBeInstanceOf(FileLockTimeoutError);
    await expect(attempt).rejects.toMatchObject({ code: 'LOCK_TIMEOUT', lockPath: `${target}.lock` });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(JSON.parse(await readFile(`${target}.lock`, 'utf8'))).toMatchObject({ token: 'someone-else' });
  });

  it('breaks a lock left by a process that has exited', async () => {
    await writeLock({ pid: deadPid(), host: hostname(), token: 'dead' });
    await expect(withFileLock(target, async () => 'got it', { timeoutMs: 2000 })).resolves.toBe('got it');
    expect(await readdir(dir)).toEqual([]);
  });

  it('breaks a lock nobody has touched for staleMs (an owner on another host)', async () => {
    await writeLock({ pid: 1, host: 'some-other-host', token: 'remote' }, 60_000);
    await expect(withFileLock(target, async () => 'got it', { timeoutMs: 2000, staleMs: 1000 })).resolves.toBe('got it');
  });

  it('breaks an old empty lock file (a creator that died before writing its name)', async () => {
    await (await open(`${target}.lock`, 'w')).close();
    const old = new Date(Date.now() - 60_000);
    await utimes(`${target}.lock`, old, old);
    await expect(withFileLock(target, async () => 'got it', { timeoutMs: 2000, staleMs: 1000 })).resolves.toBe('got it');
  });

  it('keeps a long-held lock fresh, so waiters do not break it as stale', async () => {
    const events: string[] = [];
    const holder = withFileLock(
      target,
      async () => {
        events.push('holder in');
        await sleep(1500);
        events.push('holder out');
      },
      { staleMs: 500 },
    );
    await sleep(50);
    const waiter = withFileLock(target, async () => events.push('waiter in'), { staleMs: 500, timeoutMs: 10_000 });
    await Promise.all([holder, waiter]);
    expect(events).toEqual(['holder in', 'holder out', 'waiter in']);
  });

  it('does not remove a lock that another owner took after it was broken', async () => {
    await withFileLock(target, async () => {
      // Simulate our lock being broken as stale and taken over while we still run.
      await writeFile(`${target}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), token: 'newcomer' }));
    });
    expect(JSON.parse(await readFile(`${target}.lock`, 'utf8'))).toMatchObject({ token: 'newcomer' });
  });

  it('stops waiting when the signal aborts', async () => {
    await writeLock({ pid: process.pid, host: hostname(), token: 'holder' });
    const controller = new AbortController();
    const attempt = withFileLock(target, async () => 'never', { timeoutMs: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user pressed ctrl-c')), 100);
    await expect(attempt).rejects.toThrow('user pressed ctrl-c');
  });

  it('creates the directory of the lock when it does not exist yet', async () => {
    const nested = join(dir, 'new', 'config.json');
    await expect(withFileLock(nested, async () => 'ok')).resolves.toBe('ok');
    expect((await stat(join(dir, 'new'))).isDirectory()).toBe(true);
  });
});
