import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as createPack } from 'tar-stream';

/** A raw tar entry for tests, including kinds and names gantry itself never writes. */
export interface RawEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'character-device';
  content?: string | Buffer;
  linkname?: string;
}

/** Write `entries` as a tar (gzip'd when asked) with tar-stream, exactly as given: no safety checks. */
export async function writeRawTar(file: string, entries: RawEntry[], options: { gzip?: boolean } = {}): Promise<void> {
  const pack = createPack();
  const done = pipeline([pack as unknown as Readable, ...(options.gzip ? [createGzip()] : []), createWriteStream(file)] as unknown as [Readable, NodeJS.WritableStream]);
  for (const entry of entries) {
    const content = typeof entry.content === 'string' ? Buffer.from(entry.content) : entry.content;
    await new Promise<void>((resolve, reject) => {
      const header = { name: entry.name, type: entry.type ?? 'file', ...(entry.linkname ? { linkname: entry.linkname } : {}) };
      const callback = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (content) pack.entry(header, content, callback);
      else pack.entry(header, callback);
    });
  }
  pack.finalize();
  await done;
}
