import { createHash } from 'node:crypto';
import { GantryError } from '../../errors/index.js';
import { DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_MANIFEST } from '../../media/index.js';

/*
 * The `docker save` format (moby image/spec "Combined Image JSON +
 * Filesystem Changeset Format", v1.2): `manifest.json` lists each image's
 * config file, its tags and its layer tars, bottom layer first;
 * `repositories` maps repository → tag → top legacy layer ID; each legacy
 * layer directory holds `VERSION`, `json` and `layer.tar`.
 */

/** One image in `manifest.json`. Other fields (LayerSources, Parent) are kept when read. */
export interface DockerArchiveImage {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
  [key: string]: unknown;
}

function invalid(problem: string): GantryError {
  return new GantryError('MANIFEST_INVALID', `invalid docker archive: manifest.json ${problem}`, {
    hint: 'A docker archive is what `docker save` writes; this one is damaged or of another kind.',
  });
}

/**
 * Parse `manifest.json`.
 *
 * @throws GantryError MANIFEST_INVALID when it is not an array of
 *   `{Config: string, RepoTags: string[] | null, Layers: string[]}`.
 */
export function parseDockerManifestJson(bytes: Uint8Array): DockerArchiveImage[] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw invalid('is not JSON');
  }
  if (!Array.isArray(value)) throw invalid('is not an array');
  return value.map((item: unknown, i): DockerArchiveImage => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid(`[${i}] is not an object`);
    const image = item as Record<string, unknown>;
    if (typeof image.Config !== 'string') throw invalid(`[${i}].Config is not a string`);
    if (!isStringArray(image.Layers)) throw invalid(`[${i}].Layers is not an array of strings`);
    if (image.RepoTags !== undefined && image.RepoTags !== null && !isStringArray(image.RepoTags)) {
      throw invalid(`[${i}].RepoTags is not an array of strings`);
    }
    return { ...image, Config: image.Config, Layers: image.Layers, RepoTags: (image.RepoTags as string[] | null | undefined) ?? null };
  });
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

export interface LayerFacts {
  digest: string;
  size: number;
  gzip: boolean;
}

/**
 * The Docker schema2 manifest for an image read from an archive, serialized
 * compactly with Go's field order, as skopeo serializes the one it makes
 * (`schemaVersion, mediaType, config, layers`; `mediaType, size, digest` in
 * each descriptor). Layers keep the bytes the archive stores, and a media
 * type that says what they are: uncompressed tars (what `docker save` and
 * skopeo write) are `application/vnd.docker.image.rootfs.diff.tar`, so a push
 * sends them as they are. skopeo 1.9 labels every layer `.tar.gzip` here,
 * compressed or not, and compresses on push; so its manifest digest for the
 * same archive differs from gantry's, while config and layer digests agree.
 */
export function schema2ManifestBytes(config: { digest: string; size: number }, layers: readonly LayerFacts[]): Buffer {
  const manifest = {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: DOCKER_CONFIG, size: config.size, digest: config.digest },
    layers: layers.map((l) => ({ mediaType: l.gzip ? DOCKER_LAYER_GZIP : DOCKER_LAYER, size: l.size, digest: l.digest })),
  };
  return Buffer.from(JSON.stringify(manifest));
}

/**
 * Legacy (v1) layer IDs for the `repositories` file and the per-layer
 * directories: a chain over the diff IDs, the top one also over the config
 * digest, so images that share lower layers share those directories and
 * differ at the top. Modern `docker load` reads manifest.json and ignores
 * these; they only have to be unique and stable.
 */
export function legacyLayerIds(diffIds: readonly string[], configDigest: string): string[] {
  const ids: string[] = [];
  let parent = '';
  diffIds.forEach((diffId, i) => {
    const seed = i === diffIds.length - 1 ? `${parent}\n${diffId}\n${configDigest}` : `${parent}\n${diffId}`;
    parent = createHash('sha256').update(seed).digest('hex');
    ids.push(parent);
  });
  return ids;
}

/** The `json` file of a legacy layer directory: its ID and parent; the top one also carries the image's runtime config. */
export function legacyLayerJson(id: string, parent: string | undefined, imageConfig: Record<string, unknown> | undefined): Buffer {
  const fromConfig: Record<string, unknown> = {};
  for (const key of ['architecture', 'os', 'created', 'config'] as const) {
    if (imageConfig?.[key] !== undefined) fromConfig[key] = imageConfig[key];
  }
  return Buffer.from(JSON.stringify({ ...fromConfig, id, ...(parent === undefined ? {} : { parent }) }));
}
