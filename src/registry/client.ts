import { createAuthenticator } from '../auth/authenticator.js';
import { repositoryScope } from '../auth/scope.js';
import type { Credential } from '../credentials/types.js';
import { createHttpClient } from '../http/client.js';
import type { HttpClientOptions } from '../http/client.js';
import { gantryProduct } from '../http/user-agent.js';
import { mountBlob, statBlob } from './blob-writes.js';
import { getBlobBytes, openBlob } from './blobs.js';
import { DEFAULT_LIMITS, type RegistryContext, type RegistryLimits } from './context.js';
import { deleteManifest, putManifest } from './manifest-writes.js';
import { getManifest, headManifest } from './manifests.js';
import { walkPages } from './pagination.js';
import { createPinger } from './ping.js';
import { createPrimer } from './prime.js';
import type { RegistryClient } from './types.js';
import { DEFAULT_UPLOAD_CHUNK_BYTES, resumeUpload, startUpload } from './uploads.js';
import { verifyCredential } from './verify-credential.js';

/** The HTTP settings a registry client passes to its HTTP client unchanged (documented there). */
type HttpSettings = Pick<HttpClientOptions, 'insecure' | 'caFile' | 'certsDirs' | 'env' | 'retry' | 'timeouts' | 'connections'>;

export interface RegistryClientOptions extends HttpSettings {
  /** gantry's version, for the User-Agent `gantry/<version> (node <v>; <os>)`. */
  version?: string;
  /** The User-Agent product (`gantry/0.1.0`), or a whole User-Agent when it has a `(comment)`; wins over `version`. */
  userAgent?: string;
  /**
   * The user's credential for a registry host; undefined means anonymous.
   * Asked once per host. A rejection (a failing helper) fails the request.
   */
  credentials?: (host: string) => Promise<Credential | undefined>;
  /** `--debug` lines: requests, responses, pings, tokens; never a secret. */
  log?: (line: string) => void;
  /**
   * For tests and registry mirrors: the base URL to use for a registry
   * (`http://127.0.0.1:5000`, `https://mirror.example/registry`) instead of
   * `defaultBase` (`https://registry-1.docker.io` for `docker.io`);
   * undefined keeps the default. The scheme is then fixed (no plain-HTTP
   * fallback), and credentials go over plain HTTP only to a registry marked
   * insecure.
   */
  endpoint?: (registry: string, defaultBase: string) => string | undefined;
  limits?: Partial<RegistryLimits>;
  /**
   * Bytes per PATCH of a blob upload (default 64 MiB). Fewer requests are
   * faster; a proxy in front of the registry that caps request bodies needs less.
   */
  uploadChunkBytes?: number;
  /** Requests per second per registry host (mirror files' `rps`); see HttpClientOptions. */
  requestRates?: Readonly<Record<string, number>>;
  now?: () => number;
}

/**
 * The Registry HTTP API client (RegistryClient). One HTTP client (pools per
 * origin) and one authenticator (token cache) for the client's life; each
 * registry is pinged once. `close()` closes the pools.
 */
export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient & {
  openBlob: NonNullable<RegistryClient['openBlob']>;
} {
  const log = options.log;
  const now = options.now ?? Date.now;
  const http = createHttpClient({
    userAgent: options.userAgent ?? gantryProduct(options.version ?? 'dev'),
    ...(options.insecure !== undefined ? { insecure: options.insecure } : {}),
    ...(options.caFile ? { caFile: options.caFile } : {}),
    ...(options.certsDirs ? { certsDirs: options.certsDirs } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(log ? { log } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    ...(options.connections ? { connections: options.connections } : {}),
    ...(options.requestRates ? { requestRates: options.requestRates } : {}),
    now,
  });
  const auth = createAuthenticator({
    credentials: options.credentials ?? (async () => undefined),
    http,
    now,
    ...(log ? { log } : {}),
  });
  const ping = createPinger({ http, ...(options.endpoint ? { endpoint: options.endpoint } : {}), ...(log ? { log } : {}) });
  const prime = createPrimer({ auth, ping });
  const ctx: RegistryContext = { http, auth, ping, prime, limits: { ...DEFAULT_LIMITS, ...options.limits }, ...(log ? { log } : {}) };
  const chunkBytes = options.uploadChunkBytes ?? DEFAULT_UPLOAD_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) throw new Error(`uploadChunkBytes must be a positive integer, got ${chunkBytes}`);

  return {
    ping: (registry, opts = {}) => ping(registry, opts.signal),
    getManifest: (ref, opts) => getManifest(ctx, ref, opts),
    headManifest: (ref, opts) => headManifest(ctx, ref, opts),
    getBlobBytes: (ref, digest, opts) => getBlobBytes(ctx, ref, digest, opts),
    openBlob: (ref, descriptor, opts) => openBlob(ctx, ref, descriptor, opts),
    statBlob: (ref, digest, opts) => statBlob(ctx, ref, digest, opts),
    mountBlob: (ref, digest, from, opts) => mountBlob(ctx, ref, digest, from, opts),
    startUpload: (ref, opts) => startUpload(ctx, ref, chunkBytes, opts),
    resumeUpload: (ref, location, opts) => resumeUpload(ctx, ref, location, chunkBytes, opts),
    putManifest: (ref, bytes, mediaType, opts) => putManifest(ctx, ref, bytes, mediaType, opts),
    deleteManifest: (ref, opts) => deleteManifest(ctx, ref, opts),
    listTags: (ref, opts = {}) =>
      walkPages(ctx, {
        registry: ref.registry,
        scopes: [repositoryScope(ref.repository, ['pull'])],
        path: `/v2/${ref.repository}/tags/list`,
        field: 'tags',
        notFoundCode: 'NAME_UNKNOWN',
        ...(opts.pageSize !== undefined ? { pageSize: opts.pageSize } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }),
    catalog: (registry, opts = {}) =>
      walkPages(ctx, {
        registry,
        scopes: [{ type: 'registry', name: 'catalog', actions: ['*'] }],
        path: '/v2/_catalog',
        field: 'repositories',
        ...(opts.pageSize !== undefined ? { pageSize: opts.pageSize } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }),
    verifyCredential: (registry, credential, opts) => verifyCredential(ctx, registry, credential, opts),
    close: () => http.close(),
  };
}
