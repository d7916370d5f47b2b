import { selectManifest } from '../media/index.js';
import type { Manifest, Platform } from '../media/types.js';
import type { Reference } from '../reference/types.js';
import type { RegistryClient, RequestOptions } from './types.js';

export interface ResolvedManifest {
  /** The manifest the reference names (an index or an image). */
  top: Manifest;
  /** The image manifest chosen for the platform, or `top` when it is already an image. */
  image: Manifest | undefined;
}

/**
 * Fetch a reference's manifest and, when it is an index and a platform is
 * asked for, the matching child (throws PLATFORM_NOT_FOUND listing the
 * platforms there are). With no platform, an index stays an index.
 */
export async function resolveManifest(
  client: RegistryClient,
  ref: Reference,
  options: RequestOptions & { platform?: Platform } = {},
): Promise<ResolvedManifest> {
  const top = await client.getManifest(ref, options);
  if (top.kind === 'image') return { top, image: top };
  if (!options.platform) return { top, image: undefined };
  const child = selectManifest(top.manifest, options.platform);
  const image = await client.getManifest({ ...ref, digest: child.digest }, options);
  return { top, image };
}
