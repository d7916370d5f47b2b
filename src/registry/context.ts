import type { RegistryAuthenticator } from '../auth/authenticator.js';
import type { HttpClient } from '../http/types.js';
import type { PingResult } from './types.js';

/** What the parts of the registry client share; built once by `createRegistryClient`. */
export interface RegistryContext {
  http: HttpClient;
  auth: RegistryAuthenticator;
  /** `/v2/` probed once per registry; concurrent callers share the probe. */
  ping(registry: string, signal?: AbortSignal): Promise<PingResult>;
  /**
   * Hand the ping's challenges to the authenticator, once per registry, so
   * requests carry authorization from the first one on.
   */
  prime(registry: string, signal?: AbortSignal): Promise<void>;
  limits: RegistryLimits;
  log?: (line: string) => void;
}

export interface RegistryLimits {
  /** Largest manifest read into memory (default 4 MiB, the size registries must accept per the distribution spec). */
  maxManifestBytes: number;
  /** Default cap of `getBlobBytes` (default 16 MiB: configs of images with long histories run to megabytes). */
  maxBlobBytes: number;
  /** Most pages a tag list or catalog walk follows (default 10 000). */
  maxPages: number;
  /** Largest page of a tag list or catalog (default 16 MiB). */
  maxPageBytes: number;
}

export const DEFAULT_LIMITS: Readonly<RegistryLimits> = {
  maxManifestBytes: 4 * 1024 * 1024,
  maxBlobBytes: 16 * 1024 * 1024,
  maxPages: 10_000,
  maxPageBytes: 16 * 1024 * 1024,
};
