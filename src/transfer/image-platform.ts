import { verifyBytes } from '../digest/index.js';
import { GantryError } from '../errors/index.js';
import { parseJson } from '../internal/parse-json.js';
import { DOCKER_CONFIG, OCI_CONFIG, formatPlatform, platformMatches } from '../media/index.js';
import type { Descriptor, ImageConfig, Manifest, Platform } from '../media/types.js';
import type { ImageSource } from '../transports/types.js';

const CONFIG_MAX_BYTES = 8 * 1024 * 1024;

/**
 * A single image asked for platforms it is not: refuse, rather than copy the
 * wrong architecture and exit 0 (the same rule `digest --platform` follows).
 * Artifacts, and configs without os/architecture, have no platform to check.
 *
 * @throws GantryError PLATFORM_NOT_FOUND, DIGEST_MISMATCH/SIZE_MISMATCH for a bad config.
 */
export async function requireImagePlatform(
  source: ImageSource,
  image: Manifest & { kind: 'image' },
  platforms: readonly Platform[],
  signal: AbortSignal | undefined,
): Promise<void> {
  const config: Descriptor = image.manifest.config;
  if ((config.mediaType !== OCI_CONFIG && config.mediaType !== DOCKER_CONFIG) || config.size > CONFIG_MAX_BYTES) return;
  const reader = await source.blob(config, signal ? { signal } : {});
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of reader.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > config.size) break;
    chunks.push(chunk);
  }
  reader.body.destroy();
  const bytes = Buffer.concat(chunks);
  verifyBytes(bytes, { digest: config.digest, size: config.size });
  const parsed = parseJson(bytes);
  const value = (parsed.ok ? parsed.value : undefined) as ImageConfig | null | undefined;
  if (!value || typeof value !== 'object' || !value.os || !value.architecture) return;
  const have: Platform = { os: value.os, architecture: value.architecture, ...(value.variant ? { variant: value.variant } : {}) };
  if (platforms.some((want) => platformMatches(want, have))) return;
  throw new GantryError('PLATFORM_NOT_FOUND', `${platforms.map(formatPlatform).join(', ')} not available: the image is ${formatPlatform(have)} only`, {
    hint: `drop --platform, or use --platform ${formatPlatform(have)}`,
  });
}
