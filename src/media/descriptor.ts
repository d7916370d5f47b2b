import { isDigest } from '../digest/index.js';
import { GantryError } from '../errors/index.js';
import type { Descriptor, Platform } from './types.js';

/*
 * Shape checks for descriptors (image-spec descriptor.md). Kept to what a
 * consumer relies on: a well-formed media type, a parseable digest and a
 * size that can bound a download. Unknown fields are left alone, as the
 * spec requires of consumers.
 */

// RFC 6838 section 4.2: type "/" subtype, restricted-name characters, at most 127 each.
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/**
 * True when `value` is a digest string: the one grammar of `digest/`
 * (`isDigest`, as `parseDigest` checks it), with the exact lowercase-hex
 * length of every registered algorithm (sha256, sha512, blake3).
 */
export function isValidDigest(value: unknown): value is string {
  return typeof value === 'string' && isDigest(value);
}

/** True when `value` has the `type/subtype` form RFC 6838 requires of a media type. */
export function isValidMediaType(value: unknown): value is string {
  return typeof value === 'string' && MEDIA_TYPE_RE.test(value);
}

/** A plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws MANIFEST_INVALID naming the offending field. */
export function invalid(path: string, problem: string): never {
  throw new GantryError('MANIFEST_INVALID', `invalid manifest: ${path} ${problem}`, {
    hint: 'The manifest is malformed: re-push the image with a current client, or report it to whoever publishes it.',
    details: { field: path },
  });
}

/**
 * Checks that `value` is a string-to-string map (annotations, labels).
 * @throws GantryError MANIFEST_INVALID otherwise.
 */
export function checkStringMap(value: unknown, path: string): Record<string, string> {
  if (!isJsonObject(value)) invalid(path, 'must be an object of strings');
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') invalid(`${path}[${JSON.stringify(key)}]`, 'must be a string');
  }
  return value as Record<string, string>;
}

function checkStringArray(value: unknown, path: string): string[] {
  if (!Array.isArray(value)) invalid(path, 'must be an array of strings');
  value.forEach((entry, i) => {
    if (typeof entry !== 'string') invalid(`${path}[${i}]`, 'must be a string');
  });
  return value as string[];
}

function checkPlatform(value: unknown, path: string): Platform {
  if (!isJsonObject(value)) invalid(path, 'must be an object');
  if (typeof value.os !== 'string' || value.os === '') invalid(`${path}.os`, 'must be a non-empty string');
  if (typeof value.architecture !== 'string' || value.architecture === '') invalid(`${path}.architecture`, 'must be a non-empty string');
  if (value.variant !== undefined && typeof value.variant !== 'string') invalid(`${path}.variant`, 'must be a string');
  if (value['os.version'] !== undefined && typeof value['os.version'] !== 'string') invalid(`${path}["os.version"]`, 'must be a string');
  if (value['os.features'] !== undefined) checkStringArray(value['os.features'], `${path}["os.features"]`);
  if (value.features !== undefined) checkStringArray(value.features, `${path}.features`);
  return value as unknown as Platform;
}

/**
 * Checks a descriptor's shape: `mediaType` in RFC 6838 form, a valid
 * `digest`, `size` a non-negative safe integer, and well-typed optional
 * fields (`urls`, `annotations`, `data`, `artifactType`, `platform`).
 * Returns the same object, typed; unknown fields are kept.
 * @throws GantryError MANIFEST_INVALID naming the first bad field.
 */
export function checkDescriptor(value: unknown, path: string): Descriptor {
  if (!isJsonObject(value)) invalid(path, 'must be a descriptor object');
  if (!isValidMediaType(value.mediaType)) invalid(`${path}.mediaType`, 'must be a media type (type/subtype)');
  if (!isValidDigest(value.digest)) invalid(`${path}.digest`, 'is not a valid digest');
  const size = value.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) invalid(`${path}.size`, 'must be a non-negative integer');
  if (value.urls !== undefined) checkStringArray(value.urls, `${path}.urls`);
  if (value.annotations !== undefined) checkStringMap(value.annotations, `${path}.annotations`);
  if (value.data !== undefined && typeof value.data !== 'string') invalid(`${path}.data`, 'must be a base64 string');
  if (value.artifactType !== undefined && !isValidMediaType(value.artifactType)) invalid(`${path}.artifactType`, 'must be a media type (type/subtype)');
  if (value.platform !== undefined) checkPlatform(value.platform, `${path}.platform`);
  return value as Descriptor;
}
