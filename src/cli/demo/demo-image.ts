import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { digestOf } from '../../digest/index.js';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST, formatPlatform } from '../../media/index.js';
import type { Descriptor, Platform } from '../../media/types.js';
import { writeArchive, type ArchiveEntry } from '../../transports/archive/write-archive.js';
import { createOciLayoutTarget } from '../../transports/oci-layout/index.js';
import type { ImageTarget } from '../../transports/types.js';
import { makeDirs } from '../../internal/make-dirs.js';

/** The image the demo builds: where it is and what it holds. */
export interface DemoImage {
  /** The OCI layout directory. */
  dir: string;
  /** Its name in the layout (`oci:DIR:TAG`). */
  tag: string;
  /** Digest of the root, an image index. */
  digest: string;
  platforms: string[];
}

const TAG = '1.0';
const PLATFORMS: Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
];
// A fixed creation time, so the same gantry always builds the same digests.
const CREATED = '2024-01-01T00:00:00Z';

const MOTD = `Hello from gantry's demo image.
It was built as an OCI image layout, pushed, copied and pulled without a Docker daemon.
`;

/**
 * Build a small multi-platform image as an OCI image layout in `dir` (created
 * when missing), named `1.0`: an index of two images (linux/amd64 and
 * linux/arm64/v8), each a gzip'd tar layer shared by both plus one of its
 * own, a few hundred bytes in all. The files are text: the image shows what
 * gantry moves, it is not meant to run. Written through gantry's own OCI
 * layout target, so every blob is verified on the way in. Deterministic: the
 * same code always yields the same digests.
 *
 * @throws what the OCI layout target and the tar writer throw (fs errors, INTERRUPTED on abort).
 */
export async function buildDemoImage(dir: string, options: { signal?: AbortSignal } = {}): Promise<DemoImage> {
  const target = createOciLayoutTarget(dir);
  const signal = options.signal;
  await makeDirs(dir);
  try {
    const shared = await layer(dir, 'base', [
      { type: 'directory', name: 'etc' },
      { type: 'directory', name: 'etc/gantry-demo' },
      { type: 'file', name: 'etc/gantry-demo/motd', content: Buffer.from(MOTD) },
    ]);
    await putBlob(target, shared.descriptor, shared.bytes, signal);
    const manifests: Descriptor[] = [];
    for (const platform of PLATFORMS) {
      const name = formatPlatform(platform);
      const own = await layer(dir, platform.architecture, [
        { type: 'directory', name: 'app' },
        { type: 'file', name: 'app/platform', content: Buffer.from(`${name}\n`) },
      ]);
      await putBlob(target, own.descriptor, own.bytes, signal);
      const config = json({
        created: CREATED,
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: {
          Cmd: ['cat', '/etc/gantry-demo/motd', '/app/platform'],
          Labels: { 'org.opencontainers.image.title': 'gantry demo', 'org.opencontainers.image.description': `the demo image for ${name}` },
        },
        rootfs: { type: 'layers', diff_ids: [shared.diffId, own.diffId] },
      });
      const configDesc = describe(OCI_CONFIG, config);
      await putBlob(target, configDesc, config, signal);
      const manifest = json({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers: [shared.descriptor, own.descriptor] });
      const manifestDesc = describe(OCI_MANIFEST, manifest);
      await target.writeManifest(manifestDesc, manifest, signalOption(signal));
      manifests.push({ ...manifestDesc, platform });
    }
    const index = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests });
    const root = describe(OCI_INDEX, index);
    await target.writeManifest(root, index, signalOption(signal));
    await target.commit(root, [TAG], signalOption(signal));
    return { dir, tag: TAG, digest: root.digest, platforms: PLATFORMS.map(formatPlatform) };
  } finally {
    await target.close();
  }
}

interface BuiltLayer {
  descriptor: Descriptor;
  bytes: Buffer;
  /** sha256 of the uncompressed tar: the config's `rootfs.diff_ids` entry. */
  diffId: string;
}

/** One layer: a tar of `entries` (written by the archive writer, tar-stream), gzip'd. A few hundred bytes. */
async function layer(dir: string, name: string, entries: ArchiveEntry[]): Promise<BuiltLayer> {
  const tarFile = join(dir, `.${name}.layer.tar`);
  await writeArchive(tarFile, entries);
  try {
    const tar = await readFile(tarFile);
    const bytes = gzipSync(tar, { level: 9 });
    return { descriptor: describe(OCI_LAYER_GZIP, bytes), bytes, diffId: digestOf(tar) };
  } finally {
    await rm(tarFile, { force: true });
  }
}

function putBlob(target: ImageTarget, desc: Descriptor, bytes: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
  return target.writeBlob(desc, Readable.from([bytes]), { from: 0, ...signalOption(signal) });
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function describe(mediaType: string, bytes: Uint8Array): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
}

function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}
