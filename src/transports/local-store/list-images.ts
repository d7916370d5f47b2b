import { readFile } from 'node:fs/promises';
import { isGantryError } from '../../errors/index.js';
import { fileSize } from '../../internal/blob-file.js';
import { DOCKER_CONFIG, OCI_CONFIG, baseMediaType, formatPlatform, isAttestationManifest } from '../../media/index.js';
import type { Descriptor, ImageConfig, Manifest } from '../../media/types.js';
import { repositoryOf } from '../../reference/index.js';
import { MAX_MANIFEST_BYTES } from '../oci-layout/layout-blobs.js';
import { entryName, entryRoot, readLayoutIndex } from '../oci-layout/layout-index.js';
import { blobPath } from '../oci-layout/layout-paths.js';
import { reachableBlobs } from '../oci-layout/reachable.js';
import { storeDir, type PathEnv } from './paths.js';
import { parseStoreName } from './store-names.js';

/** One named image in the local store: what `gantry images` shows. */
export interface StoredImage {
  /** The repository, normalized: `docker.io/library/alpine`. */
  name: string;
  /** The tag, or null for an image stored by digest only. */
  tag: string | null;
  /** Digest of the stored root (manifest or index). */
  digest: string;
  mediaType: string;
  /** `os/arch[/variant]` of each image (attestations left out); empty for artifacts. */
  platforms: string[];
  /** Bytes on disk of every distinct blob the image uses (manifests included), shared blobs counted once per image. */
  size: number;
}

/**
 * The named images of the local store, sorted by name then tag; an empty
 * list when there is no store yet. Entries not named like references (put
 * there by other tools) are left out.
 *
 * @throws GantryError for a damaged store (MANIFEST_INVALID, DIGEST_MISMATCH…); fs errors.
 */
export async function listImages(env: PathEnv): Promise<StoredImage[]> {
  const dir = storeDir(env);
  let entries: Descriptor[];
  try {
    entries = (await readLayoutIndex(dir)).manifests;
  } catch (err) {
    if (isGantryError(err, 'NOT_FOUND')) return [];
    throw err;
  }
  const summaries = new Map<string, Promise<{ platforms: string[]; size: number }>>();
  const images: StoredImage[] = [];
  for (const entry of entries) {
    const ref = parseStoreName(entryName(entry));
    if (ref === undefined) continue;
    let summary = summaries.get(entry.digest);
    if (summary === undefined) {
      summary = summarize(dir, entryRoot(entry));
      summaries.set(entry.digest, summary);
    }
    const { platforms, size } = await summary;
    images.push({ name: repositoryOf(ref), tag: ref.tag ?? null, digest: entry.digest, mediaType: entry.mediaType, platforms, size });
  }
  return images.sort((a, b) => a.name.localeCompare(b.name) || (a.tag ?? '').localeCompare(b.tag ?? ''));
}

async function summarize(dir: string, root: Descriptor): Promise<{ platforms: string[]; size: number }> {
  const { blobs, manifests } = await reachableBlobs(dir, [root]);
  let size = 0;
  for (const blob of blobs.values()) size += (await fileSize(blobPath(dir, blob.digest))) ?? 0;
  return { platforms: await platformsOf(dir, manifests.get(root.digest)), size };
}

async function platformsOf(dir: string, manifest: Manifest | undefined): Promise<string[]> {
  if (manifest === undefined) return [];
  if (manifest.kind === 'index') {
    const listed = manifest.manifest.manifests.filter((m) => m.platform !== undefined && !isAttestationManifest(m));
    return [...new Set(listed.map((m) => formatPlatform(m.platform as NonNullable<Descriptor['platform']>)))];
  }
  const config = manifest.manifest.config;
  const type = baseMediaType(config.mediaType);
  if ((type !== DOCKER_CONFIG && type !== OCI_CONFIG) || config.size > MAX_MANIFEST_BYTES) return [];
  const parsed = await readConfig(blobPath(dir, config.digest));
  if (parsed?.os === undefined || parsed.architecture === undefined) return [];
  return [formatPlatform({ os: parsed.os, architecture: parsed.architecture, ...(parsed.variant ? { variant: parsed.variant } : {}) })];
}

async function readConfig(path: string): Promise<ImageConfig | undefined> {
  if ((await fileSize(path)) === undefined) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ImageConfig;
  } catch (err) {
    // A config that is not JSON shows no platform; the image is still listed.
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}
