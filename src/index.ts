/**
 * gantry as a library: the same building blocks the CLI uses. Everything
 * exported here is public API; the subdirectories' other exports are not.
 */
export { ERROR_CODES, ExitCode, GantryError, RegistryError, exitCodeFor, isGantryError, type ErrorCode, type RegistryErrorEntry } from './errors/index.js';
export { createDigester, createVerifier, digestOf, isDigest, parseDigest, verifyBytes, type Digest, type Digester } from './digest/index.js';
export {
  familiarReference,
  formatReference,
  parseReference,
  parseRegistryHost,
  parseRepository,
  referenceOrDefaultTag,
  withDigest,
  withTag,
  withoutTagOrDigest,
} from './reference/index.js';
export type { Reference } from './reference/types.js';
export {
  MANIFEST_ACCEPT,
  formatPlatform,
  hostPlatform,
  isIndexMediaType,
  isImageManifestMediaType,
  normalizePlatform,
  parseManifest,
  parsePlatform,
  platformMatches,
  selectManifest,
} from './media/index.js';
export { summarizeImage, type ImageSummary } from './media/image-summary.js';
export type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Manifest, Platform } from './media/types.js';
export { filterTags, latestTag, semverOf, sortTags } from './tags/index.js';
export { createDockerCredentials, type DockerCredentials, type DockerCredentialsOptions } from './credentials/index.js';
export type { Credential, CredentialSource, CredentialStore } from './credentials/types.js';
export { parseWwwAuthenticate } from './auth/challenge.js';
export type { Authenticator, Challenge, Scope } from './auth/types.js';
export { createRegistryClient, type RegistryClientOptions } from './registry/index.js';
export { parseRateLimit, type RateLimit } from './registry/rate-limit.js';
export { resolveManifest, type ResolvedManifest } from './registry/resolve.js';
export type { ManifestHead, PingResult, RegistryClient, RequestOptions } from './registry/types.js';
export * from './mirror/index.js';
