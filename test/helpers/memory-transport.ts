import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { digestOf, verifyBytes } from '../../src/digest/index.js';
import { RegistryError } from '../../src/errors/index.js';
import { abortError } from '../../src/internal/abort.js';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST, isForeignLayer, parseManifest } from '../../src/media/index.js';
import type { Descriptor, ImageIndex, ImageManifest, Manifest, Platform } from '../../src/media/types.js';
import type { BlobOrigin, BlobReader, ImageSource, ImageTarget, SourceImage, WriteBlobOptions } from '../../src/transports/types.js';

/**
 * An in-memory ImageSource/ImageTarget pair for engine tests: content lives
 * in maps, every target call is logged, and faults (corrupt, truncated or
 * stalled bodies, sources that cannot seek, errors) are injected per call.
 * The target behaves like a careful registry: it verifies every blob over
 * its staged prefix plus the body, keeps a partial on interruption, drops it
 * on corruption, and refuses a manifest whose blobs or children are missing.
 */

/** Content by digest, plus tags. */
export interface MemoryStore {
  blobs: Map<string, Uint8Array>;
  manifests: Map<string, { mediaType: string; bytes: Uint8Array }>;
  tags: Map<string, string>;
}

export function createStore(): MemoryStore {
  return { blobs: new Map(), manifests: new Map(), tags: new Map() };
}

const encoder = new TextEncoder();

/** Put a blob in the store; its content is `text` repeated up to `size` bytes (default: `text` once). */
export function addBlob(store: MemoryStore, text: string, options: { size?: number; mediaType?: string } = {}): Descriptor {
  const size = options.size ?? encoder.encode(text).byteLength;
  const unit = encoder.encode(text);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = unit[i % unit.byteLength] as number;
  const digest = digestOf(bytes);
  store.blobs.set(digest, bytes);
  return { mediaType: options.mediaType ?? OCI_LAYER_GZIP, digest, size };
}

function addManifest(store: MemoryStore, doc: ImageManifest | ImageIndex, mediaType: string): Descriptor {
  const bytes = encoder.encode(JSON.stringify(doc));
  const digest = digestOf(bytes);
  store.manifests.set(digest, { mediaType, bytes });
  return { mediaType, digest, size: bytes.byteLength };
}

export interface ImageSpec {
  /** One layer per entry: its content seed (the same seed gives the same blob, shared across images). */
  layers: string[];
  /** Bytes per layer (default 4096: several chunks of the source's 1 KiB chunking). */
  layerSize?: number;
  platform?: Platform;
  /** Extra layer descriptors to list as-is (foreign layers). */
  extraLayers?: Descriptor[];
}

/** Build an OCI image manifest with its config and layers; the descriptor carries `platform` for use in an index. */
export function addImage(store: MemoryStore, spec: ImageSpec): Descriptor {
  const layers = spec.layers.map((seed) => addBlob(store, `layer ${seed} `, { size: spec.layerSize ?? 4096 }));
  const platform = spec.platform ?? { os: 'linux', architecture: 'amd64' };
  const config = addBlob(store, JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: spec.layers } }), { mediaType: OCI_CONFIG });
  const doc: ImageManifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [...layers, ...(spec.extraLayers ?? [])] };
  return { ...addManifest(store, doc, OCI_MANIFEST), platform };
}

/** Build an OCI index over `children` (descriptors as addImage returns, or any others). */
export function addIndex(store: MemoryStore, children: Descriptor[], annotations?: Record<string, string>): Descriptor {
  const doc: ImageIndex = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: children, ...(annotations ? { annotations } : {}) };
  return addManifest(store, doc, OCI_INDEX);
}

/** A fault for one `source.blob` call. */
export type BlobFault =
  /** One byte flipped in the middle. */
  | { kind: 'corrupt' }
  /** The last `bytes` (default 1) bytes missing. */
  | { kind: 'truncate'; bytes?: number }
  /** The open fails. */
  | { kind: 'error'; error: Error }
  /** Sends `after` bytes from the start of the blob (the offset included), then nothing until destroyed. */
  | { kind: 'stall'; after: number };

export interface MemorySourceOptions {
  description?: string;
  origin?: BlobOrigin;
  /** What `images()` lists; default: one image per tag in the store. */
  images?: SourceImage[];
  /** False: every blob is served from 0 whatever `from` is asked (a source that cannot seek). */
  seekable?: boolean;
  /** Bytes per pushed chunk (default 1024). */
  chunkSize?: number;
  /** Decide a fault per blob open; `call` counts opens of that digest from 1. */
  fault?: (desc: Descriptor, call: number) => BlobFault | undefined;
}

export interface MemorySource extends ImageSource {
  /** Every `blob` call in order: digest and the `from` asked. */
  readonly blobCalls: Array<{ digest: string; from: number }>;
  /** Every `manifest` call in order, by digest. */
  readonly manifestCalls: string[];
}

export function createMemorySource(store: MemoryStore, options: MemorySourceOptions = {}): MemorySource {
  const blobCalls: Array<{ digest: string; from: number }> = [];
  const manifestCalls: string[] = [];
  const opens = new Map<string, number>();
  const chunkSize = options.chunkSize ?? 1024;
  return {
    description: options.description ?? 'memory:source',
    origin: options.origin ?? {},
    blobCalls,
    manifestCalls,
    async images() {
      if (options.images) return options.images;
      const byDigest = new Map<string, string[]>();
      for (const [tag, digest] of store.tags) byDigest.set(digest, [...(byDigest.get(digest) ?? []), tag]);
      return [...byDigest].map(([digest, names]) => ({ root: descriptorOf(store, digest), names }));
    },
    async manifest(desc: Descriptor): Promise<Manifest> {
      manifestCalls.push(desc.digest);
      await tick();
      const stored = store.manifests.get(desc.digest);
      if (stored === undefined) throw notFound('MANIFEST_UNKNOWN', desc.digest);
      verifyBytes(stored.bytes, { digest: desc.digest, size: desc.size });
      return parseManifest({ bytes: stored.bytes, digest: desc.digest, contentType: stored.mediaType });
    },
    async blob(desc: Descriptor, blobOptions: { from?: number; signal?: AbortSignal } = {}): Promise<BlobReader> {
      const asked = blobOptions.from ?? 0;
      blobCalls.push({ digest: desc.digest, from: asked });
      const call = (opens.get(desc.digest) ?? 0) + 1;
      opens.set(desc.digest, call);
      await tick();
      if (blobOptions.signal?.aborted) throw abortError(blobOptions.signal);
      const fault = options.fault?.(desc, call);
      if (fault?.kind === 'error') throw fault.error;
      const stored = store.blobs.get(desc.digest);
      if (stored === undefined) throw notFound('BLOB_UNKNOWN', desc.digest);
      let bytes = stored;
      if (fault?.kind === 'corrupt') {
        bytes = Uint8Array.from(stored);
        const at = Math.floor(bytes.byteLength / 2);
        bytes[at] = ((bytes[at] as number) + 1) % 256;
      } else if (fault?.kind === 'truncate') {
        bytes = stored.subarray(0, Math.max(0, stored.byteLength - (fault.bytes ?? 1)));
      }
      const offset = options.seekable === false ? 0 : asked;
      const stallAt = fault?.kind === 'stall' ? fault.after : undefined;
      return { offset, body: bodyOf(bytes, offset, chunkSize, stallAt) };
    },
    async close() {},
  };
}

function bodyOf(bytes: Uint8Array, start: number, chunkSize: number, stallAt: number | undefined): Readable {
  let position = start;
  return new Readable({
    highWaterMark: chunkSize,
    read() {
      // A stalled body pushes nothing more: only destroy() ends it.
      if (stallAt !== undefined && position >= stallAt) return;
      if (position >= bytes.byteLength) {
        this.push(null);
        return;
      }
      const end = Math.min(bytes.byteLength, position + chunkSize, stallAt ?? Number.POSITIVE_INFINITY);
      this.push(bytes.subarray(position, end));
      position = end;
    },
  });
}

function descriptorOf(store: MemoryStore, digest: string): Descriptor {
  const stored = store.manifests.get(digest);
  if (stored === undefined) throw new Error(`no manifest ${digest} in the store`);
  return { mediaType: stored.mediaType, digest, size: stored.bytes.byteLength };
}

function notFound(code: string, digest: string): RegistryError {
  return new RegistryError({ status: 404, method: 'GET', url: `memory://${digest}`, entries: [{ code, message: 'not found' }] });
}

/** One logged target call. */
export interface TargetCall {
  op: 'hasBlob' | 'tryMount' | 'stagedBytes' | 'writeBlob' | 'blobWritten' | 'hasManifest' | 'namesAt' | 'writeManifest' | 'commit';
  digest: string;
  from?: number;
  names?: string[];
}

export interface MemoryTargetOptions {
  description?: string;
  /** Content already at the target (default: an empty store). */
  store?: MemoryStore;
  /** Partial blobs an earlier run left (digest → prefix bytes). */
  staged?: Map<string, Uint8Array>;
  /** Makes tryMount available: it succeeds when the origin's repository is `repository` and `store` has the blob. */
  mount?: { repository: string; store: MemoryStore };
  /** Fail a writeBlob call (`call` counts writes of that digest from 1) before reading its body. */
  writeFault?: (desc: Descriptor, call: number) => Error | undefined;
  /** Called with each chunk's running total while a blob is written (to act mid-copy). */
  onChunk?: (desc: Descriptor, bytes: number) => void;
  /** Report a write cut short by an abort as this error instead (a transport that only sees a reset socket). */
  abortedAs?: Error;
  /** Commit stores a root it is given the bytes of, as a registry's PUT by tag does (ImageTarget.commitStoresRoot). */
  commitStoresRoot?: boolean;
  /** Offer ImageTarget.namesAt, answered from the store's tags, as a registry's HEAD by tag is. */
  namesAt?: boolean;
  /** Offer ImageTarget.knownPresent, answered from the store (what a sibling copy wrote into a shared store). */
  knownPresent?: boolean;
}

export interface MemoryTarget extends ImageTarget {
  readonly store: MemoryStore;
  readonly staged: Map<string, Uint8Array>;
  readonly log: TargetCall[];
  /** Bytes received through writeBlob bodies, per digest, summed over calls. */
  readonly received: Map<string, number>;
  /** The most writeBlob calls that were running at once. */
  readonly maxInFlight: number;
}

export function createMemoryTarget(options: MemoryTargetOptions = {}): MemoryTarget {
  const store = options.store ?? createStore();
  const staged = options.staged ?? new Map<string, Uint8Array>();
  const log: TargetCall[] = [];
  const received = new Map<string, number>();
  const writes = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;

  const target: MemoryTarget = {
    description: options.description ?? 'memory:target',
    store,
    staged,
    log,
    received,
    get maxInFlight() {
      return maxInFlight;
    },
    async hasBlob(desc) {
      log.push({ op: 'hasBlob', digest: desc.digest });
      await tick();
      return store.blobs.has(desc.digest);
    },
    async stagedBytes(desc) {
      log.push({ op: 'stagedBytes', digest: desc.digest });
      return staged.get(desc.digest)?.byteLength ?? 0;
    },
    async writeBlob(desc: Descriptor, body: Readable, writeOptions: WriteBlobOptions) {
      const { from, signal } = writeOptions;
      log.push({ op: 'writeBlob', digest: desc.digest, from });
      const call = (writes.get(desc.digest) ?? 0) + 1;
      writes.set(desc.digest, call);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await tick();
        const fault = options.writeFault?.(desc, call);
        if (fault) throw fault;
        const prefix = staged.get(desc.digest) ?? new Uint8Array(0);
        if (prefix.byteLength < from) throw new Error(`writeBlob from ${from} but only ${prefix.byteLength} bytes are staged`);
        // Restarting from 0 (or from less than staged) drops what is past `from`, as a fresh upload would.
        let whole: Uint8Array = prefix.slice(0, from);
        staged.set(desc.digest, whole);
        try {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            if (signal?.aborted) throw abortError(signal);
            whole = concat([whole, chunk]);
            received.set(desc.digest, (received.get(desc.digest) ?? 0) + chunk.byteLength);
            // What arrived so far stays staged, so an interrupted write can be resumed.
            staged.set(desc.digest, whole);
            writeOptions.onProgress?.(whole.byteLength);
            options.onChunk?.(desc, whole.byteLength);
            await tick();
          }
        } catch (err) {
          if (signal?.aborted && options.abortedAs) throw options.abortedAs;
          throw err;
        }
        try {
          verifyBytes(whole, { digest: desc.digest, size: desc.size });
        } catch (err) {
          // Corrupt content must not look complete, nor be resumed from.
          staged.delete(desc.digest);
          throw err;
        }
        staged.delete(desc.digest);
        store.blobs.set(desc.digest, whole);
        log.push({ op: 'blobWritten', digest: desc.digest });
      } finally {
        inFlight--;
      }
    },
    async hasManifest(desc) {
      log.push({ op: 'hasManifest', digest: desc.digest });
      await tick();
      return store.manifests.has(desc.digest);
    },
    async writeManifest(desc, bytes) {
      log.push({ op: 'writeManifest', digest: desc.digest });
      await tick();
      storeManifest(desc, bytes);
    },
    async commit(root, names, commitOptions) {
      log.push({ op: 'commit', digest: root.digest, names });
      await tick();
      if (options.commitStoresRoot && commitOptions?.bytes && !store.manifests.has(root.digest)) storeManifest(root, commitOptions.bytes);
      if (!store.manifests.has(root.digest)) throw new Error(`commit of ${root.digest}, which is not there`);
      for (const name of names) store.tags.set(name, root.digest);
    },
    async close() {},
  };
  if (options.commitStoresRoot) Object.assign(target, { commitStoresRoot: true });
  if (options.namesAt) {
    target.namesAt = async (root, names) => {
      log.push({ op: 'namesAt', digest: root.digest, names });
      await tick();
      return names.filter((name) => store.tags.get(name) === root.digest);
    };
  }

  function storeManifest(desc: Descriptor, bytes: Uint8Array): void {
    verifyBytes(bytes, { digest: desc.digest, size: desc.size });
    const parsed = parseManifest({ bytes, digest: desc.digest, contentType: desc.mediaType });
    // As a registry does (MANIFEST_BLOB_UNKNOWN): everything named must already be there.
    const missing =
      parsed.kind === 'image'
        ? [parsed.manifest.config, ...parsed.manifest.layers].filter((d) => !isForeignLayer(d.mediaType) && !store.blobs.has(d.digest))
        : parsed.manifest.manifests.filter((d) => !store.manifests.has(d.digest));
    if (missing.length > 0) throw new Error(`manifest ${desc.digest} names missing content: ${missing.map((d) => d.digest).join(', ')}`);
    store.manifests.set(desc.digest, { mediaType: desc.mediaType, bytes: Uint8Array.from(bytes) });
  }

  if (options.knownPresent) target.knownPresent = (desc) => store.blobs.has(desc.digest);

  const { mount } = options;
  if (mount) {
    target.tryMount = async (desc, origin) => {
      log.push({ op: 'tryMount', digest: desc.digest });
      await tick();
      const blob = mount.store.blobs.get(desc.digest);
      if (origin.repository !== mount.repository || blob === undefined) return false;
      store.blobs.set(desc.digest, blob);
      return true;
    };
  }
  return target;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
