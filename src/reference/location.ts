import { GantryError } from '../errors/index.js';
import { familiarReference, formatReference } from './format.js';
import { parseReference } from './parse-reference.js';
import type { Reference } from './types.js';

/**
 * Where an image lives, as the user wrote it. The syntax is the one users
 * already know: skopeo's `docker://`, `oci:`, `oci-archive:` and
 * `docker-archive:`, regctl's `ocidir://`, and gantry's `local:` for its own
 * store. A bare reference is a registry image.
 *
 * A docker archive names its image by reference (`docker-archive:FILE:REF`,
 * matched against RepoTags) or, skopeo's `docker-archive:FILE:@N`, by
 * `index`: the N-th image of its manifest.json, from 0. Never both. `index`
 * only selects an image to read; a destination cannot use it.
 */
export type ImageLocation =
  | { transport: 'registry'; ref: Reference }
  | { transport: 'oci'; path: string; tag?: string }
  | { transport: 'oci-archive'; path: string; tag?: string }
  | { transport: 'docker-archive'; path: string; ref?: Reference; index?: number }
  | { transport: 'local'; ref: Reference };

export type Transport = ImageLocation['transport'];

const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * Parse a location. Throws REFERENCE_INVALID (exit 2) naming the part that is
 * wrong. Like skopeo, `oci:` and the archives split PATH from TAG at the first
 * colon (a path cannot contain one); `ocidir://PATH:TAG` splits at the last
 * colon when what follows is a tag, as regctl does. `docker-archive:FILE:@N`
 * (a `@` and decimal digits) is the N-th image of the archive.
 */
export function parseLocation(input: string): ImageLocation {
  const scheme = /^([a-z-]+):(\/\/)?/.exec(input);
  const rest = scheme ? input.slice(scheme[0].length) : input;
  switch (scheme?.[1]) {
    case 'docker':
      if (!scheme[2]) break;
      return { transport: 'registry', ref: parseReference(rest) };
    case 'oci':
    case 'oci-archive': {
      if (scheme[2]) break;
      const { path, suffix } = splitFirst(rest);
      return { transport: scheme[1], path: requirePath(input, path), ...(suffix !== undefined ? { tag: requireTag(input, suffix) } : {}) };
    }
    case 'ocidir': {
      if (!scheme[2]) break;
      const colon = rest.lastIndexOf(':');
      const tail = colon >= 0 ? rest.slice(colon + 1) : '';
      if (colon > 0 && TAG.test(tail)) return { transport: 'oci', path: requirePath(input, rest.slice(0, colon)), tag: tail };
      return { transport: 'oci', path: requirePath(input, rest) };
    }
    case 'docker-archive': {
      if (scheme[2]) break;
      const { path, suffix } = splitFirst(rest);
      const at = requirePath(input, path);
      if (suffix?.startsWith('@')) return { transport: 'docker-archive', path: at, index: requireIndex(input, suffix) };
      return { transport: 'docker-archive', path: at, ...(suffix ? { ref: parseReference(suffix) } : {}) };
    }
    case 'local':
      if (scheme[2]) break;
      return { transport: 'local', ref: parseReference(rest) };
    default:
      break;
  }
  if (scheme && KNOWN_OTHER.has(scheme[1] as string)) {
    throw new GantryError('REFERENCE_INVALID', `the ${scheme[1]}: transport is not supported`, {
      hint: 'gantry reads and writes docker://, oci:, oci-archive:, docker-archive:, ocidir:// and local: (see docs/locations.md)',
      details: { input, position: 0 },
    });
  }
  return { transport: 'registry', ref: parseReference(input) };
}

/** skopeo transports gantry does not implement: say so rather than misreading them as registry names. */
const KNOWN_OTHER = new Set(['containers-storage', 'docker-daemon', 'dir', 'sif', 'tarball']);

function splitFirst(rest: string): { path: string; suffix?: string } {
  const colon = rest.indexOf(':');
  return colon < 0 ? { path: rest } : { path: rest.slice(0, colon), suffix: rest.slice(colon + 1) };
}

function requirePath(input: string, path: string): string {
  if (path === '') throw new GantryError('REFERENCE_INVALID', `no path in ${JSON.stringify(input)}`, { hint: 'e.g. oci:./layout:v1', details: { input, position: input.indexOf(':') + 1 } });
  return path;
}

function requireTag(input: string, tag: string): string {
  if (!TAG.test(tag)) {
    throw new GantryError('REFERENCE_INVALID', `invalid tag ${JSON.stringify(tag)} in ${JSON.stringify(input)}`, {
      hint: 'a tag is up to 128 letters, digits, _ . and -, not starting with . or -',
      details: { input, position: input.length - tag.length },
    });
  }
  return tag;
}

/** skopeo's source index: `@` and a decimal number, the image's position in manifest.json from 0. */
function requireIndex(input: string, suffix: string): number {
  const index = /^@\d{1,15}$/.test(suffix) ? Number(suffix.slice(1)) : Number.NaN;
  if (!Number.isSafeInteger(index)) {
    throw new GantryError('REFERENCE_INVALID', `invalid image index ${JSON.stringify(suffix)} in ${JSON.stringify(input)}`, {
      hint: 'docker-archive:FILE:@N names the N-th image of the archive, counting from 0 (e.g. docker-archive:images.tar:@1); name an image by reference as docker-archive:FILE:NAME:TAG',
      details: { input, position: input.length - suffix.length },
    });
  }
  return index;
}

/** The location as the user would write it again (canonical references). */
export function formatLocation(location: ImageLocation, options: { familiar?: boolean } = {}): string {
  const ref = (r: Reference) => (options.familiar ? familiarReference(r) : formatReference(r));
  switch (location.transport) {
    case 'registry':
      return options.familiar ? ref(location.ref) : `docker://${ref(location.ref)}`;
    case 'oci':
    case 'oci-archive':
      return `${location.transport}:${location.path}${location.tag ? `:${location.tag}` : ''}`;
    case 'docker-archive':
      if (location.index !== undefined) return `docker-archive:${location.path}:@${location.index}`;
      return `docker-archive:${location.path}${location.ref ? `:${ref(location.ref)}` : ''}`;
    case 'local':
      return `local:${ref(location.ref)}`;
  }
}
