import type { Readable } from 'node:stream';
import type { Descriptor, Manifest, Platform } from '../media/types.js';

/**
 * Where images live (skopeo's sense of "transport"): a registry, an OCI layout
 * directory, an oci-archive or docker-archive tar, or gantry's local store.
 * Each has an ImageSource (read) and an ImageTarget (write) implementation;
 * the transfer engine copies between any two.
 */

/** A blob's bytes starting at `offset` (the `from` asked for, or 0 when the source cannot seek). Unverified. */
export interface BlobReader {
  body: Readable;
  offset: number;
}

/** A root to copy: the manifest or index the location names, and the tag(s) it was found under. */
export interface SourceImage {
  /** Descriptor of the root manifest or index (digest, size, mediaType). */
  root: Descriptor;
  /** Names the image has at the source (tags), used as defaults for the target. */
  names: string[];
  /**
   * Whole references the image has at the source, in docker's familiar form
   * (`alpine:3.20`, `localhost:5000/x:1`), when the source records a
   * repository with each name (a docker archive's RepoTags). Optional: most
   * sources know only tags. `dockerArchiveRepoTags` (transports/archive)
   * turns them into the image's names in another docker archive.
   */
  references?: string[];
}

/** Where a blob came from, so a target on the same registry can mount instead of upload. */
export interface BlobOrigin {
  /** Registry host, e.g. `ghcr.io`; undefined for local sources. */
  registry?: string;
  /** Repository on that registry. */
  repository?: string;
}

export interface TransportOptions {
  signal?: AbortSignal;
}

export interface ImageSource {
  /** For messages: `docker://ghcr.io/org/app:1`, `oci:/tmp/layout:v1`. */
  readonly description: string;
  /** Where blobs come from, for cross-repository mounts. */
  readonly origin: BlobOrigin;
  /** The images the location names (one for a tag or digest; several for a layout or archive without a tag, or --all-tags). */
  images(options?: TransportOptions): Promise<SourceImage[]>;
  /** A manifest or index by descriptor, digest-checked. */
  manifest(desc: Descriptor, options?: TransportOptions): Promise<Manifest>;
  /** A blob's bytes from `from` on (default 0). The caller verifies. */
  blob(desc: Descriptor, options?: TransportOptions & { from?: number }): Promise<BlobReader>;
  close(): Promise<void>;
}

/** What a target did with a blob: docker's "Layer already exists" and "Mounted from". */
export type BlobAction = 'copied' | 'skipped' | 'mounted';

export interface WriteBlobOptions extends TransportOptions {
  /** `body` starts at this offset: the staged bytes the target reported (resume), else 0. */
  from: number;
  /** Called with the count of bytes written so far (including `from`). */
  onProgress?: (bytes: number) => void;
}

export interface CommitOptions extends TransportOptions {
  /** The root's bytes, digest-checked. */
  bytes?: Uint8Array;
}

export interface ImageTarget {
  readonly description: string;
  /** True when the blob is already there, complete (HEAD on a registry; a verified file locally). */
  hasBlob(desc: Descriptor, options?: TransportOptions): Promise<boolean>;
  /**
   * True when this process has already seen the blob there or put it there
   * (found, uploaded or mounted), without a request. Copies running side by
   * side (mirror) ask it just before a transfer: the blob a sibling copy
   * uploaded since this one asked `hasBlob` is not sent again.
   */
  knownPresent?(desc: Descriptor): boolean;
  /**
   * Make the blob appear without sending its bytes (a cross-repository mount
   * on the same registry), from the source's repository or from one where
   * the target knows the blob to be. Resolves true when it mounted from
   * `origin.repository`, the repository's name when it mounted from another,
   * false to fall back to a copy. Asked for every blob a check found absent,
   * also when the source is no registry (`origin` has no repository then).
   */
  tryMount?(desc: Descriptor, origin: BlobOrigin, options?: TransportOptions): Promise<boolean | string>;
  /** Bytes of this blob an interrupted earlier run left staged (to resume from), 0 when none. */
  stagedBytes(desc: Descriptor, options?: TransportOptions): Promise<number>;
  /**
   * Write a blob. `body` starts at `options.from`. The target verifies size
   * and digest over the whole blob (staged prefix included) and publishes
   * only verified content: on mismatch it throws DIGEST_MISMATCH or
   * SIZE_MISMATCH and leaves nothing that looks complete.
   */
  writeBlob(desc: Descriptor, body: Readable, options: WriteBlobOptions): Promise<void>;
  /** True when the manifest (by digest) is already there. */
  hasManifest(desc: Descriptor, options?: TransportOptions): Promise<boolean>;
  /** Store a manifest or index by digest (no tag yet); its children must already be there. */
  writeManifest(desc: Descriptor, bytes: Uint8Array, options?: TransportOptions): Promise<void>;
  /**
   * True when `commit` given the root's `bytes` stores the root itself (a
   * registry's PUT by tag stores the manifest it names), so a root that has
   * names need not be written by digest first: one request fewer per image.
   */
  readonly commitStoresRoot?: boolean;
  /**
   * Which of `names` already point at `root` (a registry's manifest HEAD by
   * tag): the engine commits only the others. Optional: without it every
   * name is committed. A name it cannot tell about is left out (committed).
   */
  namesAt?(root: Descriptor, names: string[], options?: TransportOptions): Promise<string[]>;
  /**
   * Point names (tags) at a root already written: the last step, so no tag
   * ever names missing content. `options.bytes`, when given, are the root's
   * exact bytes, already checked against `root.digest` (the engine has them
   * from the source), so a target need not read them back.
   */
  commit(root: Descriptor, names: string[], options?: CommitOptions): Promise<void>;
  close(): Promise<void>;
}

/** The platforms filter of a copy; empty or undefined means every platform. */
export type PlatformFilter = Platform[];
