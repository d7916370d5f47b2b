export { createRegistryClient, type RegistryClientOptions } from './client.js';
export { DEFAULT_LIMITS, type RegistryLimits } from './context.js';
export { nextLink } from './link-header.js';
export { manifestReference } from './manifests.js';
export type { BlobStream, ManifestHead, PingResult, RegistryClient, RequestOptions } from './types.js';
