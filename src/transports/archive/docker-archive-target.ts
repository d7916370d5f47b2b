import { readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { verifyBytes } from '../../digest/index.js';
import { GantryError } from '../../errors/index.js';
import { throwIfAborted } from '../../internal/abort.js';
import { createGroupCommit } from '../../internal/group-commit.js';
import { withFileLock } from '../../internal/file-lock.js';
import { DOCKER_CONFIG, OCI_CONFIG, baseMediaType, parseManifest } from '../../media/index.js';
import type { Descriptor } from '../../media/types.js';
import { familiarReference, parseReference, referenceOrDefaultTag } from '../../reference/index.js';
import { hasLayoutBlob, readLayoutManifest, stagedLayoutBytes, writeLayoutBlob, writeLayoutManifest } from '../oci-layout/layout-blobs.js';
import { blobPath } from '../oci-layout/layout-paths.js';
import type { ImageTarget } from '../types.js';
import { dockerArchiveEntries, type StagedDockerImage } from './docker-archive-entries.js';
import { dockerArchiveRepoTags } from './docker-archive-names.js';
import { isLayerMediaType, storeLayer, storedDiffId } from './docker-layer-store.js';
import { archiveLockOptions, stagingDirFor, writeArchive } from './write-archive.js';

export interface DockerArchiveTargetOptions {
  /**
   * The image's name in the archive (`docker-archive:FILE:REF`), a tagged
   * reference (`latest` when it has no tag), written to RepoTags in docker's
   * familiar form (`alpine:3.20`, as `docker save` does), in addition to the
   * names given to `commit`.
   */
  ref?: string;
}

const SINGLE_PLATFORM_HINT = 'A docker archive holds single-platform images: choose one with --platform os/arch.';

/**
 * Write images to a docker archive that `docker load` and skopeo's
 * `docker-archive:` read: `manifest.json`, `repositories`, each config as
 * `<hex>.json`, each layer uncompressed as `<diff-id hex>.tar` (gzip'd
 * layers are decompressed on the way, verified against their digest and
 * their diff ID computed in the same pass), and legacy layer directories
 * whose `layer.tar` links to it, the layout skopeo writes.
 *
 * Each image's RepoTags are `ref` (when given) and the names given to
 * `commit` that are whole references (`alpine:3.20`, `localhost:5000/x:1`,
 * written in docker's familiar form; see `dockerArchiveRepoTags` to make them
 * from a source's names); a bare tag has no repository and names nothing.
 * An image with no such name is untagged (RepoTags `[]`, as skopeo writes).
 * Images with the same config are one image to docker (its image ID), so
 * their names merge into one manifest.json entry, as `docker save` lists an
 * image once with all its tags; a name committed again moves to its new
 * image.
 *
 * Content is staged next to the file (`.FILE.gantry-staging/`; configs
 * resume mid-blob, layers start over) and each `commit` writes the archive
 * atomically (`FILE.partial`, fsync, rename) with the images committed
 * through this target so far. Commits may run concurrently (the engine
 * commits each image as soon as it is written): the archive is written under
 * the file's lock, so no commit loses another's image, and commits that
 * arrive during a write are written together by the next one (a group
 * commit), so copying many images costs a few archive writes, not one each.
 * A commit that fails adds nothing. Indexes cannot be stored:
 * writing or committing one throws USAGE (the engine must be given one
 * platform).
 *
 * Throws GantryError USAGE / REFERENCE_INVALID at creation for a bad `ref`;
 * USAGE for an index; UNSUPPORTED for non-image artifacts, zstd layers and
 * layers left out of the copy (foreign layers); MANIFEST_INVALID when a
 * config's diff_ids do not match the layers; what the staged writes throw.
 */
export function createDockerArchiveTarget(file: string, options: DockerArchiveTargetOptions = {}): ImageTarget {
  const path = resolve(file);
  const repoTag = options.ref === undefined ? undefined : parseRepoTag(options.ref);
  const staging = stagingDirFor(path);
  const where = `docker-archive:${path}`;
  let images: StagedDockerImage[] = [];
  let committed = false;
  // Under the lock, which orders this process's writes and other processes' alike; commits that
  // arrive while a write runs go into the next one together (many images: a few writes, not one each).
  const writes = createGroupCommit<StagedDockerImage>((added, signal) =>
    withFileLock(
      path,
      async () => {
        const next = inArchiveOrder(added.reduce(mergeImage, images));
        await writeArchive(path, dockerArchiveEntries(staging, next), signal);
        images = next;
      },
      archiveLockOptions(signal),
    ),
  );

  return {
    description: `${where}${repoTag === undefined ? '' : `:${repoTag}`}`,
    async hasBlob(desc) {
      return isLayerMediaType(desc.mediaType) ? (await storedDiffId(staging, desc.digest)) !== undefined : hasLayoutBlob(staging, desc);
    },
    async stagedBytes(desc) {
      return isLayerMediaType(desc.mediaType) ? 0 : stagedLayoutBytes(staging, desc);
    },
    async writeBlob(desc, body, writeOptions) {
      if (!isLayerMediaType(desc.mediaType)) return writeLayoutBlob(staging, desc, body, writeOptions);
      if (writeOptions.from !== 0) {
        body.destroy();
        throw new Error(`layer ${desc.digest} cannot resume at ${writeOptions.from}: stagedBytes reported 0`);
      }
      return storeLayer(staging, desc, body, writeOptions);
    },
    async hasManifest(desc) {
      return hasLayoutBlob(staging, desc);
    },
    async writeManifest(desc, bytes, transport) {
      throwIfAborted(transport?.signal);
      verifyBytes(bytes, { digest: desc.digest, size: desc.size });
      checkStorable(parseManifest({ bytes, digest: desc.digest }), where);
      await writeLayoutManifest(staging, desc, bytes);
    },
    async commit(root, names, transport) {
      throwIfAborted(transport?.signal);
      const image = await stageImage(staging, root, where);
      const repoTags = [...new Set([...(repoTag === undefined ? [] : [repoTag]), ...dockerArchiveRepoTags({ names })])];
      await writes.add({ ...image, repoTags }, transport?.signal);
      committed = true;
    },
    async close() {
      if (committed) await rm(staging, { recursive: true, force: true });
    },
  };
}

function parseRepoTag(ref: string): string {
  const parsed = referenceOrDefaultTag(parseReference(ref));
  if (parsed.digest !== undefined) {
    throw new GantryError('USAGE', `a docker archive names images by tag, not digest: ${ref}`, { hint: 'Name the image as NAME:TAG.' });
  }
  return familiarReference(parsed);
}

function checkStorable(manifest: ReturnType<typeof parseManifest>, where: string): void {
  if (manifest.kind === 'index') {
    throw new GantryError('USAGE', `cannot write a multi-platform index to ${where}`, { hint: SINGLE_PLATFORM_HINT });
  }
  const configType = baseMediaType(manifest.manifest.config.mediaType);
  if (configType !== DOCKER_CONFIG && configType !== OCI_CONFIG) {
    throw new GantryError('UNSUPPORTED', `a docker archive holds container images, not ${configType} artifacts`, {
      hint: 'Write artifacts to an OCI layout or oci-archive instead.',
    });
  }
}

async function stageImage(staging: string, root: Descriptor, where: string): Promise<StagedDockerImage> {
  const manifest = await readLayoutManifest(staging, root, where);
  checkStorable(manifest, where);
  if (manifest.kind !== 'image') throw new Error('unreachable: checkStorable refuses indexes');
  const { config, layers } = manifest.manifest;
  const configJson = parseConfig(await readFile(blobPath(staging, config.digest), 'utf8'), config.digest);
  const diffIds: string[] = [];
  for (const layer of layers) {
    const diffId = await storedDiffId(staging, layer.digest);
    if (diffId === undefined) {
      throw new GantryError('UNSUPPORTED', `layer ${layer.digest} was not copied, and a docker archive needs every layer`, {
        hint: 'Foreign (non-distributable) layers cannot go into a docker archive.',
      });
    }
    diffIds.push(diffId);
  }
  const expected = (configJson.rootfs as { diff_ids?: unknown } | undefined)?.diff_ids;
  if (!Array.isArray(expected) || expected.length !== diffIds.length || expected.some((d, i) => d !== diffIds[i])) {
    throw new GantryError('MANIFEST_INVALID', `the config of ${root.digest} does not match its layers (rootfs.diff_ids)`, {
      details: { digest: root.digest, expected, actual: diffIds },
    });
  }
  return { configDigest: config.digest, configJson, diffIds, repoTags: [] };
}

function parseConfig(text: string, digest: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new GantryError('MANIFEST_INVALID', `image config ${digest} is not JSON`, { cause: err, details: { digest } });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GantryError('MANIFEST_INVALID', `image config ${digest} is not a JSON object`, { details: { digest } });
  }
  return value as Record<string, unknown>;
}

/**
 * The order images are listed in: by name, untagged ones last (by image ID).
 * The engine commits images in the order their copies finish, which differs
 * from run to run; a fixed order keeps `@N` naming the same image for the
 * same content. Untagged last also suits `docker load` (20.10), which prints
 * the `Loaded image ID` lines only when the last image it loads is untagged.
 */
function inArchiveOrder(images: StagedDockerImage[]): StagedDockerImage[] {
  const key = (image: StagedDockerImage): string => [...image.repoTags].sort()[0] ?? '';
  return [...images].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    if ((ka === '') !== (kb === '')) return ka === '' ? 1 : -1;
    return ka === kb ? compare(a.configDigest, b.configDigest) : compare(ka, kb);
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Add an image: the same config is the same image (docker's image ID), so its tags merge into its entry. A tag moves to its new image. */
function mergeImage(images: StagedDockerImage[], image: StagedDockerImage): StagedDockerImage[] {
  const moved = new Set(image.repoTags);
  const merged = images.map((i) =>
    i.configDigest === image.configDigest
      ? { ...i, repoTags: [...new Set([...i.repoTags, ...image.repoTags])] }
      : { ...i, repoTags: i.repoTags.filter((t) => !moved.has(t)) },
  );
  return images.some((i) => i.configDigest === image.configDigest) ? merged : [...merged, image];
}
