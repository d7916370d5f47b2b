import { GantryError } from '../errors/index.js';
import { parseJson } from '../internal/parse-json.js';
import { DOCKER_CONFIG, OCI_CONFIG, formatPlatform, platformMatches, selectManifest } from '../media/index.js';
import type { ImageConfig, Manifest, Platform } from '../media/types.js';
import type { Reference } from '../reference/types.js';
import type { RegistryClient, RequestOptions } from './types.js';

export interface ResolvedManifest {
  /** The manifest the reference names (an index or an image). */
  top: Manifest;
  /** The image manifest chosen for the platform, or `top` when it is already an image. */
  image: Manifest | undefined;
}

const CONFIG_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Fetch a reference's manifest and, when it is an index and a platform is
 * asked for, the matching child (throws PLATFORM_NOT_FOUND listing the
 * platforms there are). A single image asked for a platform it is not is
 * refused the same way, rather than silently answered. With no platform, an
 * index stays an index.
 */
export async function resolveManifest(
  client: RegistryClient,
  ref: Reference,
  options: RequestOptions & { platform?: Platform } = {},
): Promise<ResolvedManifest> {
  const top = await client.getManifest(ref, options);
  if (top.kind === 'image') {
    if (options.platform) await requireImagePlatform(client, ref, top, options.platform, options.signal);
    return { top, image: top };
  }
  if (!options.platform) return { top, image: undefined };
  const child = selectManifest(top.manifest, options.platform);
  const image = await client.getManifest({ ...ref, digest: child.digest }, options);
  return { top, image };
}

async function requireImagePlatform(client: RegistryClient, ref: Reference, image: Manifest & { kind: 'image' }, want: Platform, signal?: AbortSignal): Promise<void> {
  const config = image.manifest.config;
  // Artifacts have no image config and so no platform to compare.
  if (config.mediaType !== OCI_CONFIG && config.mediaType !== DOCKER_CONFIG) return;
  const bytes = await client.getBlobBytes(ref, config.digest, { maxBytes: CONFIG_MAX_BYTES, ...(signal ? { signal } : {}) });
  const json = parseJson(bytes);
  if (!json.ok) throw new GantryError('MANIFEST_INVALID', `the image config ${config.digest} is not valid JSON (syntax error at ${json.where})`);
  const parsed = (json.value ?? {}) as ImageConfig;
  if (!parsed.os || !parsed.architecture) return;
  const have: Platform = { os: parsed.os, architecture: parsed.architecture, ...(parsed.variant ? { variant: parsed.variant } : {}) };
  if (!platformMatches(want, have)) {
    throw new GantryError('PLATFORM_NOT_FOUND', `${formatPlatform(want)} is not available: the image is ${formatPlatform(have)} only`, {
      hint: `drop --platform, or use --platform ${formatPlatform(have)}`,
    });
  }
}
