import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GantryError } from '../../../../src/errors/index.js';
import type { Descriptor } from '../../../../src/media/types.js';
import { createOciLayoutTarget } from '../../../../src/transports/oci-layout/index.js';
import { makeTempDir, removeTempDir } from '../../../helpers/tmp.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('layout-blobs');
});
afterEach(async () => {
  await removeTempDir(dir);
});

function blob(size: number): { bytes: Buffer; desc: Descriptor } {
  const bytes = randomBytes(size);
  return { bytes, desc: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size } };
}

function finalPath(desc: Descriptor): string {
  return join(dir, 'blobs', 'sha256', desc.digest.slice(7));
}

function partialPath(desc: Descriptor): string {
  return join(dir, 'blobs', 'sha256', '.partial', desc.digest.slice(7));
}

/** A body that delivers `bytes` and then, once they had time to reach the disk, fails as a dropped connection does. */
function failingAfter(bytes: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) return;
      sent = true;
      this.push(bytes);
      setTimeout(() => this.destroy(new Error('connection reset')), 100);
    },
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? false : Promise.reject(err)),
  );
}

describe('OCI layout target: writing blobs', () => {
  it('creates the layout on first write and publishes a verified blob', async () => {
    const target = createOciLayoutTarget(dir);
    const { bytes, desc } = blob(100_000);
    expect(await target.hasBlob(desc)).toBe(false);
    await target.writeBlob(desc, Readable.from([bytes]), { from: 0 });
    expect((await readFile(finalPath(desc))).equals(bytes)).toBe(true);
    expect(await target.hasBlob(desc)).toBe(true);
    expect(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')).manifests).toEqual([]);
    expect((await stat(finalPath(desc))).mode & 0o777).toBe(0o644);
  });

  it('reports progress counting from the start of the blob', async () => {
    const target = createOciLayoutTarget(dir);
    const { bytes, desc } = blob(300_000);
    const seen: number[] = [];
    await target.writeBlob(desc, Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), { from: 0, onProgress: (n) => seen.push(n) });
    expect(seen[0]).toBe(1000);
    expect(seen.at(-1)).toBe(300_000);
  });

  it('a corrupted blob throws DIGEST_MISMATCH and leaves neither a final nor a staged file', async () => {
    const target = createOciLayoutTarget(dir);
    const { bytes, desc } = blob(50_000);
    const corrupt = Buffer.from(bytes);
    corrupt[25_000] = (corrupt[25_000] as number) ^ 0xff;
    const err = await target.writeBlob(desc, Readable.from([corrupt]), { from: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GantryError);
    expect((err as GantryError).code).toBe('DIGEST_MISMATCH');
    expect(await exists(finalPath(desc))).toBe(false);
    expect(await exists(partialPath(desc))).toBe(false);
    expect(await target.hasBlob(desc)).toBe(false);
    expect(await target.stagedBytes(desc)).toBe(0);
  });

  it('a truncated blob throws SIZE_MISMATCH and leaves nothing that looks complete', async () => {
    const target = createOciLayoutTarget(dir);
    const { bytes, desc } = blob(50_000);
    await expect(target.writeBlob(desc, Readable.from([bytes.subarray(0, 49_999)]), { from: 0 })).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
    expect(await exists(finalPath(desc))).toBe(false);
    expect(await exists(partialPath(desc))).toBe(false);
  });

  it('a blob longer than its descriptor throws SIZE_MISMATCH without writing the excess', async () => {
    const target = createOciLayoutTarget(dir);
    const { bytes, desc } = blob(10_000);
    await expect(target.writeBlob(desc, Readable.from([bytes, Buffer.from('x')]), { from: 0 })).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
    expect(await exists(finalPath(desc))).toBe(false);
  });

  it('an interrupted write keeps its staged bytes, and the next write resumes from them', async () => {
    const target = createOciLayoutTarget(dir);
    // Above UNSTAGED_MAX_BYTES: smaller blobs are not staged for a resume.
    const { bytes, desc } = blob(2_000_000);
    await expect(target.writeBlob(desc, failingAfter(bytes.subarray(0, 70_000)), { from: 0 })).rejects.toThrow(/connection reset/);
    expect(await exists(finalPath(desc))).toBe(false);
    expect(await target.hasBlob(desc)).toBe(false);
    const staged = await target.stagedBytes(desc);
    expect(staged).toBe(70_000);

    const progress: number[] = [];
    await target.writeBlob(desc, Readable.from([bytes.subarray(staged)]), { from: staged, onProgress: (n) => progress.push(n) });
    expect((await readFile(finalPath(desc))).equals(bytes)).toBe(true);
    expect(progress.at(-1)).toBe(2_000_000);
    expect(Math.min(...progress)).toBeGreaterThan(70_000);
    expect(await exists(partialPath(desc))).toBe(false);
  });

  it('a staged prefix that was damaged is caught by the whole-blob digest, and removed', async () => {
    const target = createOciLayoutTarget(dir);
    const { bytes, desc } = blob(1_500_000);
    await mkdir(join(dir, 'blobs', 'sha256', '.partial'), { recursive: true });
    const damaged = Buffer.from(bytes.subarray(0, 30_000));
    damaged[10] = (damaged[10] as number) ^ 1;
    await writeFile(partialPath(desc), damaged);
    expect(await target.stagedBytes(desc)).toBe(30_000);
    await expect(target.writeBlob(desc, Readable.from([bytes.subarray(30_000)]), { from: 30_000 })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await exists(finalPath(desc))).toBe(false);
    expect(await exists(partialPath(desc))).toBe(false);
  });

  it('a staged file longer than the blob is not offered for resume, and a fresh write replaces it', async () => {
    const target = createOciLayoutTarget(dir);
    const { bytes, desc } = blob(1_100_000);
    await mkdir(join(dir, 'blobs', 'sha256', '.partial'), { recursive: true });
    await writeFile(partialPath(desc), randomBytes(1_200_000));
    expect(await target.stagedBytes(desc)).toBe(0);
    await target.writeBlob(desc, Readable.from([bytes]), { from: 0 });
    expect((await readFile(finalPath(desc))).equals(bytes)).toBe(true);
  });

  it('resuming past what is staged fails without publishing anything', async () => {
    const target = createOciLayoutTarget(dir);
    const { bytes, desc } = blob(1000);
    await expect(target.writeBlob(desc, Readable.from([bytes.subarray(500)]), { from: 500 })).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(await exists(finalPath(desc))).toBe(false);
  });

  it('two writers of the same blob at once both succeed and publish it once', async () => {
    const a = createOciLayoutTarget(dir);
    const b = createOciLayoutTarget(dir);
    const { bytes, desc } = blob(2_000_000);
    const chunks = (): Readable => Readable.from(Array.from({ length: 20 }, (_, i) => bytes.subarray(i * 100_000, (i + 1) * 100_000)));
    await Promise.all([a.writeBlob(desc, chunks(), { from: 0 }), b.writeBlob(desc, chunks(), { from: 0 })]);
    expect((await readFile(finalPath(desc))).equals(bytes)).toBe(true);
    expect((await readdir(join(dir, 'blobs', 'sha256', '.partial'))).filter((n) => !n.endsWith('.lock'))).toEqual([]);
  });

  it('an aborted write throws INTERRUPTED and keeps what was staged', async () => {
    const target = createOciLayoutTarget(dir);
    const { bytes, desc } = blob(1_500_000);
    const controller = new AbortController();
    const body = new Readable({
      read() {
        if (this.readableLength === 0 && !controller.signal.aborted) {
          this.push(bytes.subarray(0, 40_000));
          setTimeout(() => controller.abort(), 10);
        }
      },
    });
    await expect(target.writeBlob(desc, body, { from: 0, signal: controller.signal })).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(await target.stagedBytes(desc)).toBe(40_000);
    expect(body.destroyed).toBe(true);
  });

  it('writes a small blob through a temporary file of its own: no lock, nothing staged, nothing left on failure', async () => {
    const target = createOciLayoutTarget(dir);
    const { bytes, desc } = blob(300_000);
    const partials = async (): Promise<string[]> => readdir(join(dir, 'blobs', 'sha256', '.partial')).catch(() => []);
    await expect(target.writeBlob(desc, failingAfter(bytes.subarray(0, 70_000)), { from: 0 })).rejects.toThrow(/connection reset/);
    expect(await partials()).toEqual([]);
    expect(await target.stagedBytes(desc)).toBe(0);
    await target.writeBlob(desc, Readable.from([bytes]), { from: 0 });
    expect((await readFile(finalPath(desc))).equals(bytes)).toBe(true);
    expect(await partials()).toEqual([]);
  });

  it('a small blob whose body stalls ends on abort with INTERRUPTED, and leaves nothing', async () => {
    const target = createOciLayoutTarget(dir);
    const { bytes, desc } = blob(300_000);
    const controller = new AbortController();
    let sent = false;
    const body = new Readable({
      read() {
        if (sent) return;
        sent = true;
        this.push(bytes.subarray(0, 40_000));
        setTimeout(() => controller.abort(), 10);
      },
    });
    await expect(target.writeBlob(desc, body, { from: 0, signal: controller.signal })).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(body.destroyed).toBe(true);
    expect(await exists(finalPath(desc))).toBe(false);
    expect(await readdir(join(dir, 'blobs', 'sha256')).then((names) => names.filter((n) => n.endsWith('.tmp')))).toEqual([]);
  });

  it('takes a small body of strings as their bytes, as the stream writer did', async () => {
    const target = createOciLayoutTarget(dir);
    const text = 'hello world';
    const desc: Descriptor = { mediaType: 'text/plain', digest: `sha256:${createHash('sha256').update(text).digest('hex')}`, size: text.length };
    await target.writeBlob(desc, Readable.from([text]), { from: 0 });
    expect(await readFile(finalPath(desc), 'utf8')).toBe(text);
  });

  it('stores manifests only when their bytes match the descriptor', async () => {
    const target = createOciLayoutTarget(dir);
    const bytes = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}');
    const desc: Descriptor = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
    await expect(target.writeManifest(desc, Buffer.from(bytes.toString().replace('2', '3')))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await target.hasManifest(desc)).toBe(false);
    await target.writeManifest(desc, bytes);
    expect(await target.hasManifest(desc)).toBe(true);
    expect((await readFile(finalPath(desc))).equals(bytes)).toBe(true);
  });
});
