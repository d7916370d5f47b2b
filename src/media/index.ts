export * from './media-types.js';
export { isValidDigest, isValidMediaType, checkDescriptor } from './descriptor.js';
export { parseManifest, type ParseManifestOptions } from './parse-manifest.js';
export {
  parsePlatform,
  normalizePlatform,
  formatPlatform,
  platformEquals,
  platformMatches,
  compatibilityRank,
} from './platform.js';
export { selectManifest, isAttestationManifest, availablePlatforms } from './select-manifest.js';
export { hostPlatform, type HostFacts } from './host-platform.js';
export type { Descriptor, Platform, ImageManifest, ImageIndex, Manifest, ImageConfig } from './types.js';
