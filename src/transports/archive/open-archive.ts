import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as createExtract } from 'tar-stream';
import { GantryError } from '../../errors/index.js';
import { abortError, throwIfAborted } from '../../internal/abort.js';
import { errorCode, fileSize } from '../../internal/blob-file.js';
import { entryPath, linkTarget } from './safe-path.js';
import { makeDirs } from '../../internal/make-dirs.js';

/** A regular file inside an archive. */
export interface ArchiveFile {
  size: number;
  /** `sha256:<hex>` of the content, when the archive was opened with `hash`. */
  digest?: string;
  /** The first bytes (up to 8), to tell compressed content by its magic number. */
  head: Buffer;
  /** Where the bytes are: a range of the (uncompressed) tar, or an extracted file. */
  location: { file: string; start: number };
}

/** Random access to the files of a tar archive, in constant memory. */
export interface ArchiveContents {
  /** Regular files by normalized path (links resolved to the file they name). */
  files: ReadonlyMap<string, ArchiveFile>;
  /** A file's bytes from `from` on. */
  read(file: ArchiveFile, options?: { from?: number; signal?: AbortSignal }): Readable;
  /** Remove what opening made (the extraction directory of a gzip'd archive). */
  close(): Promise<void>;
}

export interface OpenArchiveOptions {
  /** The tar file, plain or gzip'd (told apart by its magic number). */
  file: string;
  /** Compute each file's sha256 while scanning (one pass over the bytes). */
  hash?: boolean;
  /** Where a gzip'd archive is extracted (default: the OS temp dir). */
  tempDir?: string;
  signal?: AbortSignal;
}

const GZIP_MAGIC = [0x1f, 0x8b] as const;
const TAR_BLOCK = 512;
// Links resolve through other links at most this deep (a cycle stops here).
const MAX_LINK_HOPS = 32;
const READ_CHUNK = 256 * 1024;

/** True when `head` starts with the gzip magic number (RFC 1952). */
export function isGzip(head: Uint8Array): boolean {
  return head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
}

/**
 * Open a tar archive (parsed by tar-stream) for random access, streaming it
 * once. A plain tar is indexed in place: each file is a byte range of the
 * archive (no copy). A gzip'd tar cannot be seeked, so its files are
 * extracted to a fresh temp directory, removed by `close()`.
 *
 * Safety: names that are absolute or have a `..` component, and links that
 * point outside the archive, are refused (safe-path.ts). Links are resolved
 * within the archive to the regular file they name and never created on disk,
 * so nothing read can come from outside; links to directories or to nothing
 * are left out. Devices and FIFOs are refused.
 *
 * @throws GantryError NOT_FOUND when the file does not exist,
 *   MANIFEST_INVALID for an unreadable or unsafe archive, INTERRUPTED on
 *   abort; fs errors (ENOSPC…) as they are.
 */
export async function openArchive(options: OpenArchiveOptions): Promise<ArchiveContents> {
  throwIfAborted(options.signal);
  const head = await readHead(options.file);
  const gzip = isGzip(head);
  const extractDir = gzip ? await mkdtemp(join(options.tempDir ?? tmpdir(), 'gantry-archive-')) : undefined;
  try {
    const files = await scan(options, extractDir);
    return {
      files,
      read(file, readOptions = {}) {
        const from = readOptions.from ?? 0;
        if (file.size === 0 || from >= file.size) return emptyStream();
        return createReadStream(file.location.file, {
          start: file.location.start + from,
          end: file.location.start + file.size - 1,
          highWaterMark: READ_CHUNK,
          ...(readOptions.signal ? { signal: readOptions.signal } : {}),
        });
      },
      async close() {
        if (extractDir !== undefined) await rm(extractDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (extractDir !== undefined) await rm(extractDir, { recursive: true, force: true });
    throw err;
  }
}

function emptyStream(): Readable {
  const stream = new PassThrough();
  stream.end();
  return stream;
}

async function readHead(file: string): Promise<Buffer> {
  if ((await fileSize(file)) === undefined) {
    throw new GantryError('NOT_FOUND', `no archive at ${file}`, { details: { path: file } });
  }
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(8);
    const { bytesRead } = await handle.read(buffer, 0, 8, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function scan(options: OpenArchiveOptions, extractDir: string | undefined): Promise<Map<string, ArchiveFile>> {
  const files = new Map<string, ArchiveFile>();
  const links = new Map<string, string>();
  const extract = createExtract();
  const source = createReadStream(options.file, { highWaterMark: 1024 * 1024 });
  const stages = extractDir === undefined ? [source] : [source, createGunzip()];
  const feeding = pipeline([...stages, extract] as unknown as [Readable, NodeJS.WritableStream], options.signal ? { signal: options.signal } : {}).then(
    () => undefined,
    (err: unknown) => err,
  );
  try {
    for await (const entry of extract) {
      throwIfAborted(options.signal);
      const { header } = entry;
      const path = entryPath(header.name);
      const type = header.type ?? 'file';
      if (type === 'file' || type === 'contiguous-file') {
        if (path === '') throw new GantryError('MANIFEST_INVALID', 'the archive has a file entry without a name');
        links.delete(path);
        // tar-stream's `offset` is where the entry's (last) header starts; its data follows that 512-byte block.
        const start = extractDir === undefined ? entry.offset + TAR_BLOCK : undefined;
        files.set(path, await consumeFile(entry as unknown as Readable, { path, start, extractDir, options }));
      } else if (type === 'symlink' || type === 'link') {
        entry.resume();
        links.set(path, linkTarget(path, header.linkname, type));
        files.delete(path);
      } else if (type === 'directory') {
        entry.resume();
      } else {
        entry.resume();
        throw new GantryError('MANIFEST_INVALID', `archive entry ${JSON.stringify(header.name.slice(0, 200))} is a ${type}`, {
          hint: 'Image archives hold only files, directories and links.',
        });
      }
    }
  } catch (err) {
    extract.destroy();
    await feeding;
    throw archiveError(err, options);
  }
  const failure = await feeding;
  if (failure !== undefined) throw archiveError(failure, options);
  resolveLinks(files, links);
  return files;
}

async function consumeFile(
  entry: Readable,
  at: { path: string; start: number | undefined; extractDir: string | undefined; options: OpenArchiveOptions },
): Promise<ArchiveFile> {
  const hash = at.options.hash ? createHash('sha256') : undefined;
  const facts = { size: 0, head: Buffer.alloc(0) };
  const see = (chunk: Buffer): void => {
    if (facts.head.length < 8) facts.head = Buffer.concat([facts.head, chunk.subarray(0, 8 - facts.head.length)]);
    facts.size += chunk.length;
    hash?.update(chunk);
  };
  let location: ArchiveFile['location'];
  if (at.extractDir === undefined) {
    for await (const chunk of entry as AsyncIterable<Buffer>) see(chunk);
    location = { file: at.options.file, start: at.start ?? 0 };
  } else {
    const target = join(at.extractDir, at.path);
    await makeDirs(dirname(target));
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback: TransformCallback) {
        see(chunk);
        callback(null, chunk);
      },
    });
    await pipeline(entry, tap, createWriteStream(target), at.options.signal ? { signal: at.options.signal } : {});
    location = { file: target, start: 0 };
  }
  return { size: facts.size, head: facts.head, location, ...(hash ? { digest: `sha256:${hash.digest('hex')}` } : {}) };
}

function resolveLinks(files: Map<string, ArchiveFile>, links: Map<string, string>): void {
  for (const [path, first] of links) {
    let target = first;
    for (let hop = 0; hop < MAX_LINK_HOPS && links.has(target); hop++) target = links.get(target) as string;
    const file = files.get(target);
    if (file !== undefined) files.set(path, file);
  }
}

function archiveError(err: unknown, options: OpenArchiveOptions): unknown {
  if (options.signal?.aborted) return abortError(options.signal);
  if (err instanceof GantryError) return err;
  const code = errorCode(err);
  // System errors (ENOSPC, EACCES…) are the machine's, not the archive's.
  if (code !== undefined && /^E[A-Z]+$/.test(code)) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new GantryError('MANIFEST_INVALID', `cannot read the archive ${options.file}: ${why}`, {
    hint: 'Is it a tar archive (plain or gzip)? It may be truncated or damaged.',
    cause: err,
    details: { path: options.file },
  });
}

/**
 * A small file's whole content (a manifest, a config, index.json).
 *
 * @throws GantryError MANIFEST_INVALID when the file is larger than `limit`.
 */
export async function readWhole(contents: ArchiveContents, file: ArchiveFile, limit: number, name: string): Promise<Buffer> {
  if (file.size > limit) {
    throw new GantryError('MANIFEST_INVALID', `${name} in the archive is too large (${file.size} bytes)`, { details: { size: file.size, limit } });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of contents.read(file) as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
