import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { GantryError, isGantryError } from '../../../src/errors/index.js';
import { createVerifier, digestOf, verifyBytes, type ExpectedContent } from '../../../src/digest/index.js';

const content = randomBytes(300_000);
const expected: ExpectedContent = { digest: digestOf(content), size: content.length };

function chunksOf(bytes: Uint8Array, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(Buffer.from(bytes.subarray(i, i + size)));
  return chunks;
}

/** Pipe chunks through a verifier into memory; resolves with what came out, or rejects with the stream's error. */
async function run(chunks: Uint8Array[], want: ExpectedContent): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    createVerifier(want),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(out);
}

async function failureOf(promise: Promise<unknown>): Promise<GantryError> {
  try {
    await promise;
  } catch (err) {
    if (isGantryError(err)) return err;
    throw err;
  }
  throw new Error('expected the pipeline to fail');
}

describe('createVerifier', () => {
  it('passes good content through unchanged', async () => {
    const out = await run(chunksOf(content, 16_384), expected);
    expect(out.equals(content)).toBe(true);
  });

  it('accepts good content without a known size', async () => {
    const out = await run(chunksOf(content, 7_000), { digest: expected.digest });
    expect(out.equals(content)).toBe(true);
  });

  it('accepts empty content of size 0', async () => {
    const out = await run([], { digest: digestOf(new Uint8Array(0)), size: 0 });
    expect(out.length).toBe(0);
  });

  it('verifies sha512 digests too', async () => {
    await expect(run(chunksOf(content, 10_000), { digest: digestOf(content, 'sha512'), size: content.length })).resolves.toHaveLength(
      content.length,
    );
  });

  it('counts the bytes it has seen', async () => {
    const verifier = createVerifier(expected);
    await pipeline(Readable.from(chunksOf(content, 50_000)), verifier, new Writable({ write: (_c, _e, cb) => cb() }));
    expect(verifier.bytesSeen).toBe(content.length);
    expect(verifier.expected.value).toBe(expected.digest);
  });

  it('fails corrupt content of the right size with DIGEST_MISMATCH naming both digests', async () => {
    const corrupt = Buffer.from(content);
    corrupt[123_456] = (corrupt[123_456] ?? 0) ^ 0xff;
    const err = await failureOf(run(chunksOf(corrupt, 16_384), expected));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.message).toContain(expected.digest);
    expect(err.message).toContain(digestOf(corrupt));
    expect(err.details).toEqual({ expected: expected.digest, actual: digestOf(corrupt), size: content.length });
  });

  it('fails short content with SIZE_MISMATCH at the end', async () => {
    const err = await failureOf(run(chunksOf(content.subarray(0, 299_999), 16_384), expected));
    expect(err.code).toBe('SIZE_MISMATCH');
    expect(err.message).toContain('299999 of the expected 300000 bytes');
    expect(err.details).toEqual({ digest: expected.digest, expectedSize: 300_000, received: 299_999 });
  });

  it('fails long content with SIZE_MISMATCH without passing the excess on', async () => {
    const long = Buffer.concat([content, Buffer.from('x')]);
    let received = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        callback();
      },
    });
    const err = await failureOf(pipeline(Readable.from(chunksOf(long, 16_384)), createVerifier(expected), sink));
    expect(err.code).toBe('SIZE_MISMATCH');
    expect(err.message).toContain('more than the expected 300000 bytes');
    expect(received).toBeLessThanOrEqual(content.length);
  });

  it('fails as soon as the size is exceeded, without reading the rest of the source', async () => {
    let produced = 0;
    function* endless(): Generator<Buffer> {
      for (let i = 0; i < 10_000; i++) {
        produced++;
        yield Buffer.alloc(1024, 1);
      }
    }
    const err = await failureOf(pipeline(Readable.from(endless()), createVerifier({ digest: expected.digest, size: 4096 }), new Writable({ write: (_c, _e, cb) => cb() })));
    expect(err.code).toBe('SIZE_MISMATCH');
    expect(err.details).toEqual({ digest: expected.digest, expectedSize: 4096, receivedAtLeast: 5120 });
    expect(produced).toBeLessThan(100);
  });

  it('respects backpressure: a slow sink keeps the source from running ahead', async () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    const total = 200;
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    function* source(): Generator<Buffer> {
      for (let i = 0; i < total; i++) {
        produced++;
        maxAhead = Math.max(maxAhead, produced - consumed);
        yield chunk;
      }
    }
    const all = Buffer.concat(Array.from({ length: total }, () => chunk));
    const sink = new Writable({
      highWaterMark: 64 * 1024,
      write(_chunk: Buffer, _encoding, callback) {
        consumed++;
        setImmediate(callback);
      },
    });
    await pipeline(Readable.from(source()), createVerifier({ digest: digestOf(all), size: all.length }), sink);
    expect(consumed).toBe(total);
    // Each stage buffers at most a few chunks; without backpressure the source would finish first.
    expect(maxAhead).toBeLessThan(20);
  });

  it('refuses a malformed expected digest up front', () => {
    expect(() => createVerifier({ digest: 'sha256:abc' })).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
  });

  it('refuses an algorithm it cannot compute up front', () => {
    expect(() => createVerifier({ digest: `blake3:${'a'.repeat(64)}` })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 53])('treats size %s as a programmer error', (size) => {
    let caught: unknown;
    try {
      createVerifier({ digest: expected.digest, size });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).not.toBeInstanceOf(GantryError);
  });
});

describe('verifyBytes', () => {
  const manifest = new TextEncoder().encode('{"schemaVersion":2}');
  const good = { digest: digestOf(manifest), size: manifest.length };

  it('accepts matching bytes, with or without a size', () => {
    expect(() => verifyBytes(manifest, good)).not.toThrow();
    expect(() => verifyBytes(manifest, { digest: good.digest })).not.toThrow();
  });

  it('checks the size before the digest', () => {
    expect(() => verifyBytes(manifest, { ...good, size: good.size + 1 })).toThrow(
      expect.objectContaining({ code: 'SIZE_MISMATCH', details: { digest: good.digest, expectedSize: good.size + 1, received: good.size } }),
    );
    expect(() => verifyBytes(manifest, { ...good, size: good.size - 1 })).toThrow(expect.objectContaining({ code: 'SIZE_MISMATCH' }));
  });

  it('fails different bytes with DIGEST_MISMATCH', () => {
    const other = new TextEncoder().encode('{"schemaVersion":3}');
    expect(() => verifyBytes(other, good)).toThrow(
      expect.objectContaining({ code: 'DIGEST_MISMATCH', message: `digest mismatch: expected ${good.digest}, got ${digestOf(other)}` }),
    );
  });

  it('refuses malformed or uncomputable expected digests', () => {
    expect(() => verifyBytes(manifest, { digest: 'nope' })).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
    expect(() => verifyBytes(manifest, { digest: 'other:abc' })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
});
