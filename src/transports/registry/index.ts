export { createRegistrySource, type RegistrySourceOptions } from './registry-source.js';
export { createRegistryTarget, type RegistryTargetOptions } from './registry-target.js';
export { createBlobLocations, type BlobLocations, type BlobLocationsOptions } from './blob-locations.js';
