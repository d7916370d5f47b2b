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
  /**
   * How `/v2/` answered anonymously: 200 (no authentication asked) or 401.
   * A 401 may come with no usable challenge (no or unparseable
   * `WWW-Authenticate`): `challenges` is then empty too, and only `status`
   * tells it from an open registry.
   */
  status: 200 | 401;
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
  /**
   * HEAD a blob: its size when the repository has it, undefined on 404.
   * Throws AUTH_*, RegistryError for other statuses, NETWORK.
   */
  statBlob(ref: Reference, digest: string, options?: RequestOptions): Promise<BlobStat | undefined>;
  /**
   * Cross-repository mount (`POST …/blobs/uploads/?mount=DIGEST&from=REPO`),
   * authorized by one token for `repository:<repo>:pull,push` and
   * `repository:<from>:pull`. Resolves true when the registry linked the blob
   * (201); false when it refused: a 202 (its upload session is cancelled
   * again) or credentials that do not reach `fromRepository`. Throws for
   * other failures (NETWORK, RegistryError).
   */
  mountBlob(ref: Reference, digest: string, fromRepository: string, options?: RequestOptions): Promise<boolean>;
  /** Open an upload session (`POST …/blobs/uploads/`) at offset 0. Throws AUTH_*, RegistryError, NETWORK. */
  startUpload(ref: Reference, options?: UploadOptions): Promise<UploadSession>;
  /**
   * Ask the registry where an earlier upload session stands (GET on its
   * Location: `Range: 0-N`). Undefined when the session is gone (404,
   * BLOB_UPLOAD_UNKNOWN, BLOB_UPLOAD_INVALID): start a fresh one.
   */
  resumeUpload(ref: Reference, location: string, options?: UploadOptions & { expectedOffset?: number }): Promise<UploadSession | undefined>;
  /**
   * PUT a manifest under the reference's digest, else its tag, with the
   * bytes exactly as given. Resolves the digest. Throws DIGEST_MISMATCH when
   * the bytes do not have the reference's digest (nothing is sent) or the
   * registry's `Docker-Content-Digest` differs from theirs; RegistryError
   * (MANIFEST_INVALID, MANIFEST_BLOB_UNKNOWN, …), AUTH_*.
   */
  putManifest(ref: Reference, bytes: Uint8Array, mediaType: string, options?: RequestOptions): Promise<string>;
  /**
   * DELETE a manifest by digest (or by tag, where the registry supports
   * that: OCI 1.1 allows it, distribution 2.8 does not). Throws UNSUPPORTED
   * "deletes are disabled" for 405/UNSUPPORTED, MANIFEST_UNKNOWN, AUTH_*.
   */
  deleteManifest(ref: Reference, options?: RequestOptions): Promise<void>;
  /** Close every pool. */
  close(): Promise<void>;
}

/** What a blob HEAD tells. */
export interface BlobStat {
  size: number;
  /** `Docker-Content-Digest` when the registry sent one. */
  digest?: string;
}

export interface UploadOptions extends RequestOptions {
  /** Bytes per PATCH request (default the client's `uploadChunkBytes`). */
  chunkBytes?: number;
}

/** Where an upload session stands: enough to resume it after a restart of gantry. */
export interface UploadState {
  /** The latest upload URL the registry returned (absolute; carries the registry's `_state`). May hold secrets: redact before showing. */
  location: string;
  /** Bytes the registry has confirmed. */
  offset: number;
}

export interface UploadWriteOptions extends RequestOptions {
  /**
   * The bytes `body` must hold: more is refused before it is sent, fewer
   * fails at the end (both SIZE_MISMATCH). Undefined: whatever the body has.
   */
  length?: number;
  /** Called with the session's offset plus the bytes handed to the registry so far. */
  onProgress?: (bytes: number) => void;
  /** Called after each chunk the registry confirmed, before the next starts: persist it to resume later. */
  onChunk?: (state: UploadState) => void | Promise<void>;
}

/**
 * A blob upload session (distribution-spec "pushing blobs"). Not idempotent
 * and never retried blindly: after a failure, ask the registry where it
 * stands (`resumeUpload`) and continue from there.
 */
export interface UploadSession extends UploadState {
  /**
   * Send `body` as the next bytes of the blob, as streamed PATCH requests of
   * at most `chunkBytes` each, and resolve the confirmed offset. When the
   * body fails or the signal aborts mid-chunk, the chunk in flight is ended
   * early rather than cut (distribution 2.8 cancels a session whose stored
   * size differs from the last confirmed offset), so the session stays
   * resumable at the bytes the registry confirmed; then the body's error
   * (or INTERRUPTED) is thrown. Throws SIZE_MISMATCH (see `length`),
   * RegistryError, AUTH_*, NETWORK.
   */
  write(body: Readable, options?: UploadWriteOptions): Promise<number>;
  /**
   * Complete the upload (`PUT <location>?digest=`, no body): the registry
   * checks the digest over everything it received. Resolves the digest.
   * Throws DIGEST_MISMATCH when the registry refuses it (DIGEST_INVALID,
   * BLOB_UPLOAD_INVALID); distribution may keep the session then, so cancel it.
   */
  finish(digest: string, options?: RequestOptions): Promise<string>;
  /**
   * Send the whole blob and complete the upload in one request (the
   * distribution-spec's monolithic `PUT <location>?digest=` with the body and
   * its Content-Length), for a session nothing was written to yet. One round
   * trip instead of a PATCH and a PUT, but not resumable: for small blobs.
   * `length` is the body's exact size. When the body fails, its error is
   * thrown; otherwise as `finish`.
   */
  finishWith(body: Readable, digest: string, options: RequestOptions & { length: number }): Promise<string>;
  /** Abandon the session (DELETE). Resolves false when it was already gone. */
  cancel(options?: RequestOptions): Promise<boolean>;
}
