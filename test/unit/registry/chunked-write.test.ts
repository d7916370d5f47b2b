import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import { writeInChunks, type SendPart } from '../../../src/registry/chunked-write.js';

/**
 * A body of `size` bytes (byte i is i % 251) in slices of `slice`, each
 * delivered as its own chunk, failing once `failAfter` bytes were handed out.
 */
function body(size: number, slice: number, options: { failAfter?: number; produced?: { bytes: number } } = {}): Readable {
  async function* slices(): AsyncGenerator<Buffer> {
    for (let position = 0; position < size; position += slice) {
      if (options.failAfter !== undefined && position >= options.failAfter) throw new Error('source failed');
      const n = Math.min(slice, size - position);
      const chunk = Buffer.alloc(n);
      for (let i = 0; i < n; i++) chunk[i] = (position + i) % 251;
      if (options.produced) options.produced.bytes += n;
      yield chunk;
    }
  }
  return Readable.from(slices(), { objectMode: false, highWaterMark: 1 });
}

function expected(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = i % 251;
  return out;
}

/** A receiver that reads each part to its end and records it; `answer` decides the outcome per part. */
function receiver(answer: (index: number, bytes: Buffer) => Promise<void> | void = () => undefined) {
  const parts: Buffer[] = [];
  const counted: number[] = [];
  const sendPart: SendPart = async (part, _signal, bytes) => {
    const chunks: Buffer[] = [];
    for await (const chunk of part as AsyncIterable<Buffer>) chunks.push(chunk);
    const got = Buffer.concat(chunks);
    parts.push(got);
    counted.push(bytes());
    await answer(parts.length - 1, got);
  };
  return { parts, counted, sendPart };
}

/** A receiver that reads every part but never answers: a part ends only when it is cut. */
function silentReceiver(): { sendPart: SendPart; wasCut: () => boolean } {
  let cut = false;
  const sendPart: SendPart = (part, signal) =>
    new Promise<void>((_resolve, reject) => {
      part.resume();
      signal.addEventListener('abort', () => {
        cut = true;
        reject(new Error('cut'));
      });
    });
  return { sendPart, wasCut: () => cut };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('writeInChunks', () => {
  it('splits a body into parts of at most chunkBytes, in order', async () => {
    const r = receiver();
    const sent = await writeInChunks(body(10_000, 1000), { chunkBytes: 3000, label: 'test', sendPart: r.sendPart });
    expect(sent).toBe(10_000);
    expect(r.parts.map((p) => p.length)).toEqual([3000, 3000, 3000, 1000]);
    expect(r.counted).toEqual([3000, 3000, 3000, 1000]);
    expect(Buffer.concat(r.parts).equals(expected(10_000))).toBe(true);
  });

  it('splits a slice larger than a chunk across parts, and sends no empty last part', async () => {
    const r = receiver();
    await writeInChunks(body(9000, 7000), { chunkBytes: 3000, label: 'test', sendPart: r.sendPart });
    expect(r.parts.map((p) => p.length)).toEqual([3000, 3000, 3000]);
    expect(Buffer.concat(r.parts).equals(expected(9000))).toBe(true);
  });

  it('sends nothing for an empty body', async () => {
    const r = receiver();
    expect(await writeInChunks(body(0, 1000), { chunkBytes: 3000, label: 'test', sendPart: r.sendPart })).toBe(0);
    expect(r.parts).toEqual([]);
  });

  it('reports the bytes handed over as they go', async () => {
    const seen: number[] = [];
    await writeInChunks(body(2500, 1000), { chunkBytes: 3000, label: 'test', sendPart: receiver().sendPart, onBytes: (n) => seen.push(n) });
    expect(seen).toEqual([1000, 2000, 2500]);
  });

  it('ends the part in flight early when the body fails, then throws the body error', async () => {
    const r = receiver();
    const err = await failure(writeInChunks(body(10_000, 1500, { failAfter: 4500 }), { chunkBytes: 3000, label: 'test', sendPart: r.sendPart }));
    expect(err.message).toBe('source failed');
    expect(r.parts.map((p) => p.length)).toEqual([3000, 1500]);
    expect(Buffer.concat(r.parts).equals(expected(4500))).toBe(true);
  });

  it('ends the part in flight early on an abort, waits for its answer, then throws INTERRUPTED', async () => {
    const controller = new AbortController();
    const source = body(10_000, 1500);
    let answered = 0;
    const r = receiver(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      answered++;
    });
    const err = await failure(
      writeInChunks(source, {
        chunkBytes: 3000,
        label: 'test',
        sendPart: r.sendPart,
        signal: controller.signal,
        onBytes: (n) => {
          if (n === 4500) controller.abort();
        },
      }),
    );
    expect((err as GantryError).code).toBe('INTERRUPTED');
    // The second part was ended early, short of a full chunk, and still answered.
    expect(r.parts.map((p) => p.length)).toEqual([3000, 1500]);
    expect(answered).toBe(2);
    expect(Buffer.concat(r.parts).equals(expected(4500))).toBe(true);
    expect(source.destroyed).toBe(true);
  });

  it('cuts a part whose answer does not come within the grace period after an abort', async () => {
    const controller = new AbortController();
    const { sendPart, wasCut } = silentReceiver();
    setTimeout(() => controller.abort(), 20);
    const err = await failure(writeInChunks(body(1_000_000, 1000), { chunkBytes: 10_000_000, label: 'test', sendPart, signal: controller.signal, graceMs: 30 }));
    expect((err as GantryError).code).toBe('INTERRUPTED');
    expect(wasCut()).toBe(true);
  });

  it('refuses more bytes than the length before handing them over', async () => {
    const r = receiver();
    const err = await failure(writeInChunks(body(6000, 1500), { chunkBytes: 3000, length: 4000, offset: 100, label: 'blob x', sendPart: r.sendPart }));
    expect((err as GantryError).code).toBe('SIZE_MISMATCH');
    expect(err.message).toContain('more than the expected 4100 bytes');
    expect(Buffer.concat(r.parts).length).toBeLessThanOrEqual(4000);
  });

  it('fails with SIZE_MISMATCH when the body holds fewer bytes than the length, after sending them', async () => {
    const r = receiver();
    const err = await failure(writeInChunks(body(3500, 1000), { chunkBytes: 3000, length: 4000, label: 'blob x', sendPart: r.sendPart }));
    expect((err as GantryError).code).toBe('SIZE_MISMATCH');
    expect(err.message).toContain('received 3500 of the expected 4000 bytes');
    expect(Buffer.concat(r.parts).length).toBe(3500);
  });

  it('fails with SIZE_MISMATCH when the body ends short on a part boundary', async () => {
    const r = receiver();
    const err = await failure(writeInChunks(body(6000, 1000), { chunkBytes: 3000, length: 9000, label: 'test', sendPart: r.sendPart }));
    expect((err as GantryError).code).toBe('SIZE_MISMATCH');
    expect(r.parts.map((p) => p.length)).toEqual([3000, 3000]);
  });

  it('cuts the part in flight when its answer does not come within the grace period after the body fails', async () => {
    const { sendPart, wasCut } = silentReceiver();
    const err = await failure(writeInChunks(body(10_000, 1000, { failAfter: 2000 }), { chunkBytes: 5000, label: 'test', sendPart, graceMs: 20 }));
    expect(err.message).toBe('source failed');
    expect(wasCut()).toBe(true);
  });

  it('throws the error of a part the receiver refuses, and destroys the body', async () => {
    const source = body(10_000, 1000);
    const r = receiver((index) => {
      if (index === 1) throw new Error('refused');
    });
    const err = await failure(writeInChunks(source, { chunkBytes: 3000, label: 'test', sendPart: r.sendPart }));
    expect(err.message).toBe('refused');
    expect(r.parts).toHaveLength(2);
    expect(source.destroyed).toBe(true);
  });

  it('fails, not waits forever, when the body is destroyed without an error', async () => {
    const r = receiver();
    const source = new Readable({ read: () => undefined });
    source.push(Buffer.alloc(100));
    setTimeout(() => source.destroy(), 10);
    const err = await failure(writeInChunks(source, { chunkBytes: 3000, label: 'test', sendPart: r.sendPart }));
    expect((err as NodeJS.ErrnoException).code).toBe('ERR_STREAM_PREMATURE_CLOSE');
  });

  it('throws the error of a body that had already failed', async () => {
    const source = new Readable({ read: () => undefined });
    source.on('error', () => undefined);
    source.destroy(new Error('failed before'));
    await new Promise((resolve) => setImmediate(resolve));
    const err = await failure(writeInChunks(source, { chunkBytes: 3000, label: 'test', sendPart: receiver().sendPart }));
    expect(err.message).toBe('failed before');
  });

  it('throws what a progress listener throws, rather than letting it escape the body stream', async () => {
    for (const failingCall of [1, 3]) {
      let calls = 0;
      const onBytes = (): void => {
        if (++calls === failingCall) throw new Error('listener failed');
      };
      const source = body(10_000, 1000);
      const err = await failure(writeInChunks(source, { chunkBytes: 3000, label: 'test', sendPart: receiver().sendPart, onBytes }));
      expect(err.message).toBe('listener failed');
      expect(source.destroyed).toBe(true);
    }
  });

  it('opens no part when the signal was aborted before the call', async () => {
    const r = receiver();
    const controller = new AbortController();
    controller.abort();
    const err = await failure(writeInChunks(body(1000, 100), { chunkBytes: 3000, label: 'test', sendPart: r.sendPart, signal: controller.signal }));
    expect((err as GantryError).code).toBe('INTERRUPTED');
    expect(r.parts).toEqual([]);
  });

  it('treats a receiver that answers before the part is complete as an error', async () => {
    const sendPart: SendPart = async () => undefined;
    const err = await failure(writeInChunks(body(10_000, 1000), { chunkBytes: 3000, label: 'test', sendPart }));
    expect((err as GantryError).code).toBe('REGISTRY_ERROR');
  });

  it('stops reading the body while the receiver does not read (bounded buffering)', async () => {
    const produced = { bytes: 0 };
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let consumed = 0;
    const sendPart: SendPart = async (part) => {
      for await (const chunk of part as AsyncIterable<Buffer>) {
        consumed += chunk.length;
        if (consumed >= 64 * 1024) await gate;
      }
    };
    const done = writeInChunks(body(64 * 1024 * 1024, 64 * 1024, { produced }), { chunkBytes: 128 * 1024 * 1024, label: 'test', sendPart });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(produced.bytes).toBeLessThan(4 * 1024 * 1024);
    release();
    expect(await done).toBe(64 * 1024 * 1024);
  });
});
