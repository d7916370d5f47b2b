export { DEFAULT_TAG, DOCKER_HUB, DOCKER_HUB_ENDPOINT, MAX_REPOSITORY_LENGTH } from './constants.js';
export { familiarName, familiarReference, formatReference, repositoryOf } from './format.js';
export { referenceOrDefaultTag, withDigest, withTag, withoutTagOrDigest } from './modify.js';
export { parseReference, parseRepository } from './parse-reference.js';
export { isInsecureByDefault, parseRegistryHost, registryEndpoint } from './registry-host.js';
export type { Reference } from './types.js';
export { formatLocation, parseLocation, type ImageLocation, type Transport } from './location.js';
