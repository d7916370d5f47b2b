import { resolve } from 'node:path';
import { digestOf, verifyBytes } from '../../digest/index.js';
import { GantryError } from '../../errors/index.js';
import { throwIfAborted } from '../../internal/abort.js';
import { sizeMismatchError } from '../../internal/blob-file.js';
import { DOCKER_MANIFEST, parseManifest } from '../../media/index.js';
import type { Descriptor } from '../../media/types.js';
import { MAX_MANIFEST_BYTES } from '../oci-layout/layout-blobs.js';
import type { ImageSource, SourceImage } from '../types.js';
import { parseDockerManifestJson, schema2ManifestBytes, type DockerArchiveImage, type LayerFacts } from './docker-archive-format.js';
import { selectDockerImages } from './docker-archive-select.js';
import { isGzip, openArchive, readWhole, type ArchiveContents, type ArchiveFile } from './open-archive.js';
import { entryPath } from './safe-path.js';

export interface DockerArchiveSourceOptions {
  /**
   * Which image (`docker-archive:FILE:REF`): a tagged reference matched
   * against the images' RepoTags (normalized, so `alpine:3.20` matches
   * `docker.io/library/alpine:3.20`), or `@N` for the N-th image of
   * manifest.json (skopeo's syntax). Every image when omitted.
   */
  ref?: string;
  /** Where a gzip'd archive is extracted (default: the OS temp dir). A plain tar is read in place. */
  tempDir?: string;
}

/** An image as read from the archive, with the schema2 manifest made for it. */
export interface LoadedDockerImage extends SourceImage {
  entry: DockerArchiveImage;
  bytes: Buffer;
}

interface Loaded {
  archive: ArchiveContents;
  images: LoadedDockerImage[];
  manifests: Map<string, Buffer>;
  blobs: Map<string, ArchiveFile>;
}

/**
 * Read images from a docker archive (`docker save` output, plain or gzip'd;
 * skopeo's `docker-archive:FILE[:REF]`).
 *
 * The archive is scanned once on first use, hashing every file on the way.
 * Each image becomes a Docker schema2 manifest built from manifest.json: its
 * config (digest: sha256 of the config file) and its layer tars as they are
 * stored (uncompressed tars as `application/vnd.docker.image.rootfs.diff.tar`,
 * gzip'd ones as `.tar.gzip`; see `schema2ManifestBytes` for how this differs
 * from skopeo). An uncompressed layer must hash to its diff_id in the config.
 * Image names are the tags of its RepoTags, and its references those RepoTags
 * in full (familiar form), so another docker archive can keep them.
 *
 * Throws GantryError NOT_FOUND for a missing file or image (the hint lists
 * the RepoTags there are), REFERENCE_INVALID / USAGE for a bad `ref`,
 * MANIFEST_INVALID for an archive that is unsafe or no docker archive,
 * DIGEST_MISMATCH when a layer does not match its config.
 */
export function createDockerArchiveSource(file: string, options: DockerArchiveSourceOptions = {}): ImageSource {
  const path = resolve(file);
  const where = `docker-archive:${path}`;
  let loading: Promise<Loaded> | undefined;
  const load = (signal: AbortSignal | undefined): Promise<Loaded> => {
    loading ??= loadArchive(path, where, options.tempDir, signal).catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };

  return {
    description: `${where}${options.ref === undefined ? '' : `:${options.ref}`}`,
    origin: {},
    async images(transport) {
      throwIfAborted(transport?.signal);
      const { images } = await load(transport?.signal);
      return selectDockerImages(images, options.ref, where).map(({ root, names, references }) => ({ root, names, ...(references ? { references } : {}) }));
    },
    async manifest(desc, transport) {
      throwIfAborted(transport?.signal);
      const bytes = (await load(transport?.signal)).manifests.get(desc.digest);
      if (bytes === undefined) throw new GantryError('MANIFEST_UNKNOWN', `manifest ${desc.digest} is not in ${where}`);
      verifyBytes(bytes, { digest: desc.digest, size: desc.size });
      return parseManifest({ bytes, digest: desc.digest });
    },
    async blob(desc, transport) {
      throwIfAborted(transport?.signal);
      const from = transport?.from ?? 0;
      if (!Number.isSafeInteger(from) || from < 0 || from > desc.size) throw new RangeError(`blob offset ${from} outside 0..${desc.size}`);
      const { archive, blobs } = await load(transport?.signal);
      const entry = blobs.get(desc.digest);
      if (entry === undefined) throw new GantryError('BLOB_UNKNOWN', `blob ${desc.digest} is not in ${where}`, { details: { digest: desc.digest } });
      if (entry.size !== desc.size) throw sizeMismatchError(desc.digest, desc.size, entry.size);
      return { body: archive.read(entry, { from, ...(transport?.signal ? { signal: transport.signal } : {}) }), offset: from };
    },
    async close() {
      const pending = loading;
      loading = undefined;
      // A load that failed left nothing behind; its error already went to the caller that asked.
      const [outcome] = await Promise.allSettled(pending === undefined ? [] : [pending]);
      if (outcome?.status === 'fulfilled') await outcome.value.archive.close();
    },
  };
}

async function loadArchive(path: string, where: string, tempDir: string | undefined, signal: AbortSignal | undefined): Promise<Loaded> {
  const archive = await openArchive({ file: path, hash: true, ...(tempDir ? { tempDir } : {}), ...(signal ? { signal } : {}) });
  try {
    const manifestJson = archive.files.get('manifest.json');
    if (manifestJson === undefined) throw invalidArchive(where, 'it has no manifest.json: is it a docker archive (docker save)?');
    const entries = parseDockerManifestJson(await readWhole(archive, manifestJson, MAX_MANIFEST_BYTES, 'manifest.json'));
    const loaded: Loaded = { archive, images: [], manifests: new Map(), blobs: new Map() };
    for (const entry of entries) loaded.images.push(await loadImage(loaded, entry, where));
    return loaded;
  } catch (err) {
    await archive.close();
    throw err;
  }
}

async function loadImage(loaded: Loaded, entry: DockerArchiveImage, where: string): Promise<LoadedDockerImage> {
  const fileOf = (name: string): ArchiveFile => {
    const found = loaded.archive.files.get(entryPath(name));
    if (found?.digest === undefined) throw invalidArchive(where, `manifest.json names ${JSON.stringify(name.slice(0, 200))}, which it does not hold`);
    return found;
  };
  const configFile = fileOf(entry.Config);
  const configBytes = await readWhole(loaded.archive, configFile, MAX_MANIFEST_BYTES, entry.Config);
  const diffIds = readDiffIds(configBytes, where);
  if (diffIds.length !== entry.Layers.length) {
    throw invalidArchive(where, `image ${entry.Config} lists ${entry.Layers.length} layers but its config has ${diffIds.length} diff_ids`);
  }
  const layers: LayerFacts[] = entry.Layers.map((name, i) => {
    const layer = fileOf(name);
    const facts = { digest: layer.digest as string, size: layer.size, gzip: isGzip(layer.head) };
    // An uncompressed layer is its own diff: it must hash to the config's diff_id, or the image is inconsistent.
    if (!facts.gzip && facts.digest !== diffIds[i]) {
      throw new GantryError('DIGEST_MISMATCH', `layer ${name} in ${where} does not match diff_id ${String(diffIds[i])} of its config`, {
        details: { layer: name, expected: diffIds[i], actual: facts.digest },
      });
    }
    loaded.blobs.set(facts.digest, layer);
    return facts;
  });
  const config = { digest: configFile.digest as string, size: configFile.size };
  loaded.blobs.set(config.digest, configFile);
  const bytes = schema2ManifestBytes(config, layers);
  const root: Descriptor = { mediaType: DOCKER_MANIFEST, digest: digestOf(bytes), size: bytes.byteLength };
  loaded.manifests.set(root.digest, bytes);
  return { root, names: [], entry, bytes };
}

function readDiffIds(bytes: Buffer, where: string): string[] {
  let config: unknown;
  try {
    config = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw invalidArchive(where, 'an image config is not JSON');
  }
  const diffIds = (config as { rootfs?: { diff_ids?: unknown } } | null)?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || !diffIds.every((d) => typeof d === 'string')) throw invalidArchive(where, 'an image config has no rootfs.diff_ids');
  return diffIds as string[];
}

function invalidArchive(where: string, problem: string): GantryError {
  return new GantryError('MANIFEST_INVALID', `invalid docker archive ${where}: ${problem}`, { details: { location: where } });
}
