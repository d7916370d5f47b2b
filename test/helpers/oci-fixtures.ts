import { createCipheriv, createHash, randomBytes, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from '../../src/media/types.js';

/**
 * Generated OCI image layouts (image-spec image-layout.md) for tests and
 * benchmarks: every byte is made by code from a seed, so the same spec always
 * yields the same digests, and nothing binary is checked in.
 */

export const MEDIA = {
  oci: {
    index: 'application/vnd.oci.image.index.v1+json',
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  },
  docker: {
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  },
} as const;

export interface OciLayoutSpec {
  /** Written as `org.opencontainers.image.ref.name` in `index.json` (skopeo's `oci:DIR:TAG`). */
  tag: string;
  /** A single image for this platform (default `linux/amd64`); ignored when `platforms` is set. */
  platform?: string;
  /** An index with one image per platform (`os/arch[/variant]`), even if only one is listed. */
  platforms?: string[];
  /** Layers per image (0 or more). */
  layers: number;
  /** Bytes of generated (incompressible) file content per layer. */
  layerSize: number;
  seed: number | string;
  /** With `platforms`: the first N layers are byte-identical across platforms (for dedupe tests). Default 0. */
  sharedLayers?: number;
  /** Annotations on the root manifest or index (OCI only; docker schema2 has none). */
  annotations?: Record<string, string>;
  mediaTypes: 'oci' | 'docker';
  /** gzip level of layers; default 1 (the content is incompressible, so higher levels only cost time). */
  gzipLevel?: number;
}

export interface FixtureLayer {
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar (the config's `rootfs.diff_ids` entry). */
  diffId: string;
}

export interface FixtureImage {
  platform: Platform;
  manifest: Descriptor;
  config: Descriptor;
  layers: FixtureLayer[];
}

export interface OciLayoutResult {
  dir: string;
  tag: string;
  /** The descriptor written into `index.json` for `tag`. */
  root: Descriptor;
  /** The root's digest: what a registry reports for the pushed tag. */
  digest: string;
  /** Set when the root is an index. */
  indexDigest?: string;
  images: FixtureImage[];
  /** Every distinct blob of this image (layers, configs, manifests, index). */
  blobs: Descriptor[];
  /** Sum of the sizes of `blobs`. */
  totalSize: number;
  /**
   * The skopeo source for this image: `oci:DIR:TAG`, except for a docker-typed
   * image that is alone in its layout, which is `oci:DIR`: containers/image
   * 5.23 (skopeo 1.9) looks a tag up only among OCI-typed `index.json`
   * entries, so a docker-typed image is reachable only as the sole entry.
   */
  transportRef: string;
}

const CREATED = '2024-01-01T00:00:00Z';
/** Fixed tar mtime (2024-01-01) so archives do not depend on when they were made. */
const MTIME = 1_704_067_200;
const CHUNK = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Parse `os/arch[/variant]`; throws a plain Error on anything else. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, extra] = text.split('/');
  if (!os || !architecture || extra !== undefined || variant === '') throw new Error(`bad platform ${JSON.stringify(text)}`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

// --- a minimal ustar writer, test fixtures only (POSIX.1-1988 ustar header) ---

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function tarHeader(name: string, size: number, type: 'file' | 'dir'): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long for this writer: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(type === 'dir' ? 0o755 : 0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(MTIME, 12), 136, 'ascii');
  h.fill(' ', 148, 156);
  h.write(type === 'dir' ? '5' : '0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** AES-128-CTR keystream keyed by the seed: fast, deterministic, incompressible. */
function* keystream(key: string, size: number): Generator<Buffer> {
  const k = createHash('sha256').update(key).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', k, Buffer.alloc(16));
  for (let left = size; left > 0; left -= CHUNK) yield cipher.update(left >= CHUNK ? ZEROS : ZEROS.subarray(0, left));
}

function* layerTar(prefix: string, info: string, key: string, size: number): Generator<Buffer> {
  const text = Buffer.from(info);
  yield tarHeader(`${prefix}/`, 0, 'dir');
  yield tarHeader(`${prefix}/README.txt`, text.length, 'file');
  yield text;
  yield padding(text.length);
  yield tarHeader(`${prefix}/data.bin`, size, 'file');
  yield* keystream(key, size);
  yield padding(size);
  yield Buffer.alloc(1024);
}

class Tap extends Transform {
  readonly hash: Hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }
}

// --- the layout ---

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
}

function blobPath(dir: string, digest: string): string {
  return join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

/** Stage to a temp name, then rename to the digest: a blob is never visible half-written. */
async function writeBlob(dir: string, mediaType: string, bytes: Buffer): Promise<Descriptor> {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const final = blobPath(dir, digest);
  if (!(await exists(final))) {
    const tmp = `${final}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, final);
  }
  return { mediaType, digest, size: bytes.length };
}

async function writeLayer(dir: string, mediaType: string, tar: Iterable<Buffer>, level: number): Promise<FixtureLayer> {
  const tmp = join(dir, 'blobs', 'sha256', `layer.${randomBytes(6).toString('hex')}.tmp`);
  const raw = new Tap();
  const gz = new Tap();
  await pipeline(Readable.from(tar), raw, createGzip({ level }), gz, createWriteStream(tmp));
  const digest = `sha256:${gz.hash.digest('hex')}`;
  const final = blobPath(dir, digest);
  if (await exists(final)) await rm(tmp);
  else await rename(tmp, final);
  return { descriptor: { mediaType, digest, size: gz.size }, diffId: `sha256:${raw.hash.digest('hex')}` };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function validate(spec: OciLayoutSpec): void {
  if (!TAG.test(spec.tag)) throw new Error(`bad tag ${JSON.stringify(spec.tag)}`);
  if (!Number.isInteger(spec.layers) || spec.layers < 0) throw new Error(`layers must be a non-negative integer, got ${spec.layers}`);
  if (!Number.isInteger(spec.layerSize) || spec.layerSize < 0) throw new Error(`layerSize must be a non-negative integer, got ${spec.layerSize}`);
  const shared = spec.sharedLayers ?? 0;
  if (!Number.isInteger(shared) || shared < 0 || shared > spec.layers) throw new Error(`sharedLayers must be within 0..layers, got ${shared}`);
  if (spec.platforms?.length === 0) throw new Error('platforms, when given, must not be empty');
  if (spec.annotations && spec.mediaTypes === 'docker') throw new Error('annotations need OCI media types: docker schema2 has no annotations');
}

async function buildImage(dir: string, spec: OciLayoutSpec, platformText: string, memo: Map<string, FixtureLayer>): Promise<FixtureImage> {
  const types = MEDIA[spec.mediaTypes];
  const platform = parsePlatform(platformText);
  const layers: FixtureLayer[] = [];
  for (let i = 0; i < spec.layers; i++) {
    const shared = spec.platforms !== undefined && i < (spec.sharedLayers ?? 0);
    const key = `gantry-fixture|${String(spec.seed)}|${shared ? 'shared' : platformText}|${i}|${spec.layerSize}`;
    let layer = memo.get(key);
    if (!layer) {
      const info = `gantry fixture layer ${i}\nseed ${String(spec.seed)}\nplatform ${shared ? 'any' : platformText}\n`;
      layer = await writeLayer(dir, types.layer, layerTar(`layer-${i}`, info, key, spec.layerSize), spec.gzipLevel ?? 1);
      memo.set(key, layer);
    }
    layers.push(layer);
  }
  const config = {
    created: CREATED,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `FIXTURE_SEED=${String(spec.seed)}`],
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['echo gantry fixture'],
      WorkingDir: '/',
      Labels: { 'org.gantry.fixture.tag': spec.tag, 'org.gantry.fixture.platform': platformText },
      ExposedPorts: { '8080/tcp': {} },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created: CREATED, created_by: `gantry fixture: layer ${i}` })),
  };
  const configDesc = await writeBlob(dir, types.config, json(config));
  const isRoot = spec.platforms === undefined;
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: types.manifest,
    config: configDesc,
    layers: layers.map((l) => l.descriptor),
    ...(isRoot && spec.annotations ? { annotations: spec.annotations } : {}),
  };
  const manifestDesc = await writeBlob(dir, types.manifest, json(manifest));
  return { platform, manifest: manifestDesc, config: configDesc, layers };
}

/**
 * Write (or add a tag to) an OCI image layout in `dir`: `oci-layout`,
 * `index.json` and `blobs/sha256/*`, holding one image or, with `platforms`,
 * an index of images. Layers are real gzip'd ustar archives of generated
 * files, streamed to disk (bounded memory for any `layerSize`); the same spec
 * always produces the same bytes. An existing `index.json` entry for the same
 * tag is replaced; other entries are kept. Give a docker-typed image a layout
 * of its own if skopeo must read it (see `transportRef`). Throws a plain Error
 * on a bad spec.
 */
export async function buildOciLayout(dir: string, spec: OciLayoutSpec): Promise<OciLayoutResult> {
  validate(spec);
  const types = MEDIA[spec.mediaTypes];
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));

  const memo = new Map<string, FixtureLayer>();
  const images: FixtureImage[] = [];
  for (const p of spec.platforms ?? [spec.platform ?? 'linux/amd64']) images.push(await buildImage(dir, spec, p, memo));

  let root: Descriptor;
  let indexDigest: string | undefined;
  const first = images[0];
  if (spec.platforms === undefined && first) {
    root = { ...first.manifest };
  } else {
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: types.index,
      manifests: images.map((img) => ({ ...img.manifest, platform: img.platform })),
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
    };
    root = await writeBlob(dir, types.index, json(index));
    indexDigest = root.digest;
  }

  const indexFile = join(dir, 'index.json');
  const previous: ImageIndex = (await exists(indexFile))
    ? (JSON.parse(await readFile(indexFile, 'utf8')) as ImageIndex)
    : { schemaVersion: 2, mediaType: MEDIA.oci.index, manifests: [] };
  const refName = 'org.opencontainers.image.ref.name';
  const entry: Descriptor = { ...root, annotations: { [refName]: spec.tag } };
  const layoutIndex: ImageIndex = {
    ...previous,
    manifests: [...previous.manifests.filter((m) => m.annotations?.[refName] !== spec.tag), entry],
  };
  await writeFile(indexFile, json(layoutIndex));
  const alone = layoutIndex.manifests.length === 1;

  const blobs = new Map<string, Descriptor>();
  for (const img of images) {
    for (const l of img.layers) blobs.set(l.descriptor.digest, l.descriptor);
    blobs.set(img.config.digest, img.config);
    blobs.set(img.manifest.digest, img.manifest);
  }
  blobs.set(root.digest, root);
  const all = [...blobs.values()];
  return {
    dir,
    tag: spec.tag,
    root: entry,
    digest: root.digest,
    ...(indexDigest ? { indexDigest } : {}),
    images,
    blobs: all,
    totalSize: all.reduce((n, b) => n + b.size, 0),
    transportRef: spec.mediaTypes === 'docker' && alone ? `oci:${dir}` : `oci:${dir}:${spec.tag}`,
  };
}
