export type { Credential, CredentialSource, CredentialStore } from './types.js';
export { decodeAuthEntry, encodeAuthEntry, type AuthEntryContext } from './auth-entry.js';
export {
  dockerConfigDir,
  dockerConfigPath,
  findAuth,
  helperFor,
  loadDockerConfig,
  parseDockerConfig,
  perHostHelper,
  type DockerConfig,
  type DockerConfigLocation,
} from './config-file.js';
export {
  createDockerCredentials,
  type DockerCredentials,
  type DockerCredentialsOptions,
  type StoreTarget,
  type CredentialTarget,
} from './docker-credentials.js';
export { createFileStore, sourceFrom, type FileStore, type FileStoreOptions } from './file-store.js';
export { helperProgram, runCredentialHelper, type HelperAction, type HelperOutput, type RunHelperOptions } from './helper-process.js';
export { createHelperStore, type HelperStore, type HelperStoreOptions } from './helper-store.js';
export {
  createKeychainStore,
  type KeychainStore,
  type KeychainStoreOptions,
  type KeyringEntry,
  type KeyringModule,
} from './keychain-store.js';
export { DOCKER_HUB_SERVER, findKey, keyMatchesHost, registryHost, serverAddress } from './registry-key.js';
