import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createOffThreadDigester } from '../../../src/digest/off-thread-digester.js';
import { GantryError } from '../../../src/errors/index.js';
import { closedStream } from '../../../src/internal/blob-file.js';
import type { IncrementalHash } from '../../../src/internal/content-check.js';
import { createVerifiedFileWriter } from '../../../src/internal/verified-file-writer.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-vfw-'));
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

function sha256(): IncrementalHash {
  const h = createHash('sha256');
  return { update: (c) => h.update(c), digest: () => `sha256:${h.digest('hex')}` };
}

const digestOf = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** `bytes` as a stream of `size`-byte chunks, like a socket delivers them. */
function chunked(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

async function fileHandleWritevSpy() {
  const probe = await open(join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { writev: (...args: unknown[]) => Promise<unknown> };
  await probe.close();
  return vi.spyOn(proto, 'writev');
}

describe('createVerifiedFileWriter', () => {
  it('writes every byte, in batches of about batchBytes, and reports progress per chunk', async () => {
    const bytes = randomBytes(1_000_000);
    const path = join(dir, 'blob');
    const writev = await fileHandleWritevSpy();
    const progress: number[] = [];
    const out = createVerifiedFileWriter({ path, mode: 0o644, digest: digestOf(bytes), size: bytes.length, hash: sha256(), batchBytes: 256 * 1024, onProgress: (n) => progress.push(n) });
    await pipeline(Readable.from(chunked(bytes, 16 * 1024)), out);
    expect((await readFile(path)).equals(bytes)).toBe(true);
    // 62 chunks of 16 KiB in batches of ≥ 256 KiB: 4 writes, not 62.
    expect(writev.mock.calls.length).toBeLessThanOrEqual(4);
    expect(progress[0]).toBe(16 * 1024);
    expect(progress.at(-1)).toBe(bytes.length);
    expect(progress.length).toBe(Math.ceil(bytes.length / (16 * 1024)));
  });

  it('continues a staged prefix in place when seen > 0', async () => {
    const bytes = randomBytes(300_000);
    const path = join(dir, 'blob');
    await writeFile(path, bytes.subarray(0, 100_000));
    const hash = sha256();
    hash.update(bytes.subarray(0, 100_000));
    await pipeline(Readable.from(chunked(bytes.subarray(100_000), 7000)), createVerifiedFileWriter({ path, mode: 0o644, digest: digestOf(bytes), size: bytes.length, hash, seen: 100_000 }));
    expect((await readFile(path)).equals(bytes)).toBe(true);
  });

  it('fails with SIZE_MISMATCH as soon as the bytes exceed the size, without writing the excess', async () => {
    const bytes = randomBytes(100_000);
    const path = join(dir, 'blob');
    const out = createVerifiedFileWriter({ path, mode: 0o644, digest: digestOf(bytes.subarray(0, 60_000)), size: 60_000, hash: sha256(), batchBytes: 10_000 });
    const err = await pipeline(Readable.from(chunked(bytes, 20_000)), out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GantryError);
    expect((err as GantryError).code).toBe('SIZE_MISMATCH');
    expect((await stat(path)).size).toBeLessThanOrEqual(60_000);
  });

  it('fails a short body with SIZE_MISMATCH and a wrong one with DIGEST_MISMATCH', async () => {
    const bytes = randomBytes(50_000);
    const short = await pipeline(Readable.from([bytes.subarray(0, 40_000)]), createVerifiedFileWriter({ path: join(dir, 'a'), mode: 0o644, digest: digestOf(bytes), size: 50_000, hash: sha256() })).catch((e: unknown) => e);
    expect((short as GantryError).code).toBe('SIZE_MISMATCH');
    const corrupt = Buffer.from(bytes);
    corrupt[10] = (corrupt[10] as number) ^ 1;
    const wrong = await pipeline(Readable.from([corrupt]), createVerifiedFileWriter({ path: join(dir, 'b'), mode: 0o644, digest: digestOf(bytes), size: 50_000, hash: sha256() })).catch((e: unknown) => e);
    expect((wrong as GantryError).code).toBe('DIGEST_MISMATCH');
  });

  it('keeps the bytes received before the body failed (a prefix to resume from), batched or not', async () => {
    const bytes = randomBytes(200_000);
    const path = join(dir, 'blob');
    const body = new PassThrough();
    const out = createVerifiedFileWriter({ path, mode: 0o644, digest: digestOf(bytes), size: bytes.length, hash: sha256(), batchBytes: 1024 * 1024 });
    const done = pipeline(body, out);
    body.write(bytes.subarray(0, 30_000));
    body.write(bytes.subarray(30_000, 70_000));
    // Let the writer take both chunks (held in its batch), then drop the connection.
    await new Promise((resolve) => setTimeout(resolve, 20));
    body.destroy(new Error('socket hang up'));
    await expect(done).rejects.toThrow('socket hang up');
    // pipeline settles on the error; the prefix is on disk once the writer has closed.
    await closedStream(out);
    expect((await readFile(path)).equals(bytes.subarray(0, 70_000))).toBe(true);
  });

  it('writes a batch that waits for more bytes once the body stalls, so a kill loses nothing received', async () => {
    const bytes = randomBytes(100_000);
    const path = join(dir, 'blob');
    const body = new PassThrough();
    const out = createVerifiedFileWriter({ path, mode: 0o644, digest: digestOf(bytes), size: bytes.length, hash: sha256(), batchBytes: 1024 * 1024 });
    const done = pipeline(body, out);
    body.write(bytes.subarray(0, 40_000));
    // Far below a batch, and nothing more comes: the bytes still reach the file (bounded wait, no timing asserted).
    const deadline = Date.now() + 5000;
    while ((await stat(path).then((s) => s.size, () => 0)) < 40_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect((await stat(path)).size).toBe(40_000);
    body.end(bytes.subarray(40_000));
    await done;
    expect((await readFile(path)).equals(bytes)).toBe(true);
  });

  it('creates the file with the mode asked for', async () => {
    const bytes = randomBytes(10);
    const path = join(dir, 'blob');
    const previous = process.umask(0o022);
    try {
      await pipeline(Readable.from([bytes]), createVerifiedFileWriter({ path, mode: 0o600, digest: digestOf(bytes), size: 10, hash: sha256() }));
    } finally {
      process.umask(previous);
    }
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  describe('with an off-thread hash that reads the file it wrote', () => {
    it('verifies a blob continued from a staged prefix (the worker hashes the prefix and every batch)', async () => {
      const bytes = randomBytes(3 * 1024 * 1024 + 5);
      const path = join(dir, 'blob');
      await writeFile(path, bytes.subarray(0, 1_000_000));
      const hash = createOffThreadDigester('sha256');
      hash.updateFromFile(path, 0, 1_000_000);
      const update = vi.spyOn(hash, 'update');
      await pipeline(Readable.from(chunked(bytes.subarray(1_000_000), 64 * 1024)), createVerifiedFileWriter({ path, mode: 0o644, digest: digestOf(bytes), size: bytes.length, hash, seen: 1_000_000 }));
      expect((await readFile(path)).equals(bytes)).toBe(true);
      // Nothing was copied to the worker: it read the file.
      expect(update).not.toHaveBeenCalled();
    });

    it('fails a corrupted blob with DIGEST_MISMATCH', async () => {
      const bytes = randomBytes(2 * 1024 * 1024);
      const corrupt = Buffer.from(bytes);
      corrupt[1_500_000] = (corrupt[1_500_000] as number) ^ 0x10;
      const out = createVerifiedFileWriter({ path: join(dir, 'blob'), mode: 0o644, digest: digestOf(bytes), size: bytes.length, hash: createOffThreadDigester('sha256') });
      const err = await pipeline(Readable.from(chunked(corrupt, 64 * 1024)), out).catch((e: unknown) => e);
      expect((err as GantryError).code).toBe('DIGEST_MISMATCH');
    });
  });
});
