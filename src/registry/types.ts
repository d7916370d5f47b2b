import type { Readable } from 'node:stream';
import type { Reference } from '../reference/types.js';
import type { Descriptor, Manifest } from '../media/types.js';
import type { Credential } from '../credentials/types.js';

/** The facts a manifest HEAD (or GET fallback) yields. */
export interface ManifestHead {
  /** `Docker-Content-Digest`, or the sha256 of the body when the registry sent none. */
  digest: string;
  mediaType: string;
  size: number;
  /** Lowercased response headers, for callers that read e.g. `ratelimit-*`. */
  headers: Record<string, string>;
}

/** What probing `/v2/` learned about a registry; cached per registry for the client's life. */
export interface PingResult {
  registry: string;
  /** `https://registry-1.docker.io` or `http://localhost:5000` */
  baseUrl: string;
  /** The parsed challenges of a 401, empty when `/v2/` answered 200. */
  challenges: import('../auth/types.js').Challenge[];
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** A blob download as opened by `openBlob`. */
export interface BlobStream {
  /**
   * The blob's bytes from `offset` to the end, unverified: hash them on the
   * way (digest's createVerifier). Read it to the end or destroy it.
   */
  body: Readable;
  /** Where `body` starts: the `from` asked for, or 0 when the server ignored the Range. */
  offset: number;
}

/**
 * The Registry HTTP API (OCI distribution-spec) for one process: one
 * connection pool per registry origin, `/v2/` probed once per registry,
 * tokens cached per scope. Methods throw GantryError/RegistryError with the
 * codes of src/errors.
 */
export interface RegistryClient {
  ping(registry: string, options?: RequestOptions): Promise<PingResult>;
  /**
   * GET a manifest. The bytes are digest-checked: against the reference's
   * digest when it has one, else against `Docker-Content-Digest` when sent.
   * Throws MANIFEST_UNKNOWN/NAME_UNKNOWN/NOT_FOUND, DIGEST_MISMATCH,
   * UNSUPPORTED_MEDIA_TYPE (schema1), MANIFEST_INVALID.
   */
  getManifest(ref: Reference, options?: RequestOptions & { accept?: string[] }): Promise<Manifest>;
  /** HEAD a manifest (GET when HEAD gives no digest). Throws like getManifest. */
  headManifest(ref: Reference, options?: RequestOptions & { accept?: string[] }): Promise<ManifestHead>;
  /** GET a small blob (a config) into memory, size-capped and digest-checked. */
  getBlobBytes(ref: Reference, digest: string, options?: RequestOptions & { maxBytes?: number }): Promise<Uint8Array>;
  /**
   * Open a blob for streaming, from byte `from` on (a `Range` request) to
   * resume a download; redirects to object storage are followed without the
   * registry's credentials. Throws BLOB_UNKNOWN/NOT_FOUND, AUTH_*, and
   * REGISTRY_ERROR for a Content-Range that does not start at `from`.
   */
  openBlob?(ref: Reference, descriptor: Pick<Descriptor, 'digest' | 'size'>, options?: RequestOptions & { from?: number }): Promise<BlobStream>;
  /** Tags of a repository, one array per page, following `Link` pagination. */
  listTags(ref: Reference, options?: RequestOptions & { pageSize?: number }): AsyncIterable<string[]>;
  /** Repositories of a registry, one array per page, following `Link` pagination. */
  catalog(registry: string, options?: RequestOptions & { pageSize?: number }): AsyncIterable<string[]>;
  /**
   * Check a credential against a registry without storing it, as `docker
   * login` does. Throws AUTH_FAILED when the registry rejects it.
   */
  verifyCredential(registry: string, credential: Credential, options?: RequestOptions): Promise<void>;
  /** Close every pool. */
  close(): Promise<void>;
}
