import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOffThreadDigester } from '../../../src/digest/off-thread-digester.js';
import { GantryError } from '../../../src/errors/index.js';

const hex = (algorithm: string, bytes: Uint8Array): string => `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-otd-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createOffThreadDigester', () => {
  it('matches node:crypto for any split of the input into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3 * 1024 * 1024 + 17 }), fc.array(fc.integer({ min: 1, max: 700_000 }), { minLength: 1, maxLength: 8 }), async (bytes, sizes) => {
        const d = createOffThreadDigester('sha256');
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const n = sizes[i % sizes.length] as number;
          d.update(bytes.subarray(at, at + n));
          at += n;
        }
        expect(await d.digest()).toBe(hex('sha256', bytes));
      }),
      { numRuns: 15 },
    );
  });

  it('copies what update is given: the caller may overwrite its buffer at once', async () => {
    const bytes = randomBytes(1024 * 1024);
    const scratch = Buffer.alloc(4096);
    const d = createOffThreadDigester('sha256');
    for (let i = 0; i < bytes.length; i += scratch.length) {
      bytes.copy(scratch, 0, i, i + scratch.length);
      d.update(scratch);
      scratch.fill(0xaa);
    }
    expect(await d.digest()).toBe(hex('sha256', bytes));
  });

  it('hashes ranges of a file read by the worker, mixed with bytes given directly', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 3);
    const path = join(dir, 'blob');
    await writeFile(path, bytes);
    const d = createOffThreadDigester('sha512');
    d.updateFromFile(path, 0, 1_000_000);
    d.updateFromFile(path, 1_000_000, 4_000_000);
    d.update(bytes.subarray(4_000_000));
    expect(await d.digest()).toBe(hex('sha512', bytes));
  });

  it('fails the digest when the file is shorter than a range', async () => {
    const path = join(dir, 'short');
    await writeFile(path, randomBytes(1000));
    const d = createOffThreadDigester('sha256');
    d.updateFromFile(path, 0, 2000);
    await expect(d.digest()).rejects.toThrow(/ends at 1000, before 2000/);
  });

  it('asks the caller to wait while more than a few MiB are unhashed, and lets it go on afterwards', async () => {
    const d = createOffThreadDigester('sha256');
    const chunk = randomBytes(1024 * 1024);
    let waited = 0;
    const all: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      d.update(chunk);
      all.push(chunk);
      const ready = d.ready();
      if (ready) {
        waited++;
        await ready;
      }
    }
    expect(waited).toBeGreaterThan(0);
    expect(await d.digest()).toBe(hex('sha256', Buffer.concat(all)));
  });

  it('refuses algorithms it cannot compute with UNSUPPORTED', () => {
    const err = (() => {
      try {
        createOffThreadDigester('blake3');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(GantryError);
    expect((err as GantryError).code).toBe('UNSUPPORTED');
  });

  it('keeps no process alive once its digesters are done or disposed', async () => {
    // A process that digests, abandons a second digester and ends its script must exit by itself.
    // It runs the build (pretest builds it), as the executable would.
    const built = resolve('dist/digest/off-thread-digester.js');
    const script = `
      import { createOffThreadDigester } from ${JSON.stringify(built)};
      const a = createOffThreadDigester('sha256');
      a.update(new Uint8Array(10));
      const b = createOffThreadDigester('sha256');
      b.update(new Uint8Array(600000));
      b.dispose();
      console.log(await a.digest());
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
    expect(stdout.trim()).toBe(hex('sha256', new Uint8Array(10)));
  });
});
