import { pipeline, type Readable } from 'node:stream';
import { createVerifier, verifyBytes } from '../../digest/index.js';
import { GantryError, isGantryError } from '../../errors/index.js';
import { MANIFEST_ACCEPT } from '../../media/index.js';
import type { Descriptor } from '../../media/types.js';
import { formatReference, withoutTagOrDigest, withTag } from '../../reference/index.js';
import type { Reference } from '../../reference/types.js';
import type { RegistryClient, UploadSession } from '../../registry/types.js';
import type { BlobOrigin, ImageTarget, TransportOptions, WriteBlobOptions } from '../types.js';
import type { BlobLocations } from './blob-locations.js';
import { createUploadStateStore } from './upload-state.js';

/**
 * Blobs up to this size are uploaded whole (POST, then one PUT with the body)
 * rather than in resumable PATCH chunks: configs and small layers, where the
 * extra round trip and the saved session state cost more than resending.
 */
export const WHOLE_UPLOAD_MAX_BYTES = 4 * 1024 * 1024;

export interface RegistryTargetOptions {
  /** gantry's state directory (`stateDir(env)`); upload sessions are kept under `<stateDir>/uploads/`. */
  stateDir: string;
  /** Bytes per PATCH (default the client's). */
  chunkBytes?: number;
  /** Blobs up to this size go whole in one PUT, not resumable (default WHOLE_UPLOAD_MAX_BYTES; 0: never). */
  wholeUploadMaxBytes?: number;
  /** Debug lines (a session given up, a cleanup that failed); never a secret. */
  log?: (line: string) => void;
  /**
   * Blobs found at, uploaded to or mounted into a repository, by
   * `registry/repository@digest`: share one set between the targets of copies
   * that run side by side (a mirror run), so that none asks about or sends a
   * blob another already put there. Keep it for one run only: a registry may
   * delete an unreferenced blob later. Default: this target's own.
   */
  present?: Set<string>;
  /**
   * Where blobs were seen in this registry (another repository may hold one
   * this push needs: mount it from there). Learns what this target finds,
   * uploads and mounts; the caller saves it.
   */
  locations?: BlobLocations;
}

/**
 * A repository in a registry as a copy target, written through `client`
 * (which stays the caller's: `close()` does not close it).
 *
 * Blobs: `hasBlob` is a HEAD; `tryMount` mounts across repositories of the
 * same registry. A blob above `wholeUploadMaxBytes` is uploaded in PATCH
 * chunks; its session is saved in the state directory before the first byte
 * is sent and after every chunk the registry confirms, so `stagedBytes`
 * (asking the registry where it stands) lets a later run, even another
 * process, continue it; on a digest or size mismatch that session is
 * cancelled and forgotten, on any other failure (Ctrl-C included) it is
 * kept to resume. A smaller blob goes whole in the PUT that closes its
 * session, saved nowhere: after a failure it is sent again, and the session
 * is left to the registry's purge. `writeBlob` hashes the bytes when it sends
 * the whole blob; the registry checks the digest over everything at the end
 * in any case, and a refusal is DIGEST_MISMATCH.
 *
 * Manifests are PUT by digest (`writeManifest`); `commit` PUTs the exact
 * root bytes under each name, last.
 */
export function createRegistryTarget(client: RegistryClient, ref: Reference, options: RegistryTargetOptions): ImageTarget {
  const repo = withoutTagOrDigest(ref);
  const store = createUploadStateStore({ stateDir: options.stateDir, registry: ref.registry, repository: ref.repository });
  const chunk = options.chunkBytes !== undefined ? { chunkBytes: options.chunkBytes } : {};
  const wholeMax = options.wholeUploadMaxBytes ?? WHOLE_UPLOAD_MAX_BYTES;
  /** Sessions `stagedBytes` confirmed, for the `writeBlob` that follows. */
  const confirmed = new Map<string, UploadSession>();
  /** Manifest bytes written by this target, so `commit` sends exactly them. */
  const written = new Map<string, { bytes: Uint8Array; mediaType: string }>();
  const log = options.log;
  const keyOf = (desc: Descriptor): string => `${ref.registry}/${ref.repository}@${desc.digest}`;
  const present = options.present ?? new Set<string>();
  const { locations } = options;
  const seen = (desc: Descriptor): void => {
    present.add(keyOf(desc));
    locations?.remember(ref.registry, ref.repository, desc.digest);
  };

  const signalOf = (opts: TransportOptions | undefined): { signal?: AbortSignal } => (opts?.signal ? { signal: opts.signal } : {});

  const discard = async (session: UploadSession, digest: string, why: string): Promise<void> => {
    try {
      await session.cancel();
    } catch (err) {
      // The registry purges abandoned sessions in time; the failure that led here is the one to report.
      if (!isGantryError(err)) throw err;
      log?.(`registry target: could not cancel the upload of ${digest} (${why}): ${err.code}`);
    }
  };

  const resume = async (desc: Descriptor, opts: TransportOptions | undefined): Promise<UploadSession | undefined> => {
    const saved = await store.read(desc.digest);
    if (!saved) return undefined;
    const session = await client.resumeUpload(repo, saved.location, { expectedOffset: saved.offset, ...chunk, ...signalOf(opts) });
    if (!session) {
      log?.(`registry target: the upload session of ${desc.digest} is gone; starting afresh`);
      await store.remove(desc.digest);
      return undefined;
    }
    if (session.offset > desc.size) {
      await discard(session, desc.digest, 'it holds more than the blob');
      await store.remove(desc.digest);
      return undefined;
    }
    await store.write(desc.digest, session);
    return session;
  };

  const open = async (desc: Descriptor, from: number, opts: WriteBlobOptions): Promise<UploadSession> => {
    const known = confirmed.get(desc.digest);
    confirmed.delete(desc.digest);
    if (from > 0) {
      const session = known?.offset === from ? known : await resume(desc, opts);
      if (session?.offset !== from) {
        throw new GantryError('REGISTRY_ERROR', `cannot resume the upload of ${desc.digest} at byte ${from}: the registry holds ${session ? `${session.offset} bytes` : 'no session'}`, {
          hint: 'Run the command again: it asks the registry where the upload stands first.',
          details: { digest: desc.digest, from, ...(session ? { registryOffset: session.offset } : {}) },
        });
      }
      return session;
    }
    const session = await client.startUpload(repo, { ...chunk, ...signalOf(opts) });
    // Saved before the first byte goes out: a run killed from here on leaves a session to resume.
    await store.write(desc.digest, session);
    // A session staged earlier that the caller chose not to continue (its source cannot seek) is garbage now.
    if (known) await discard(known, desc.digest, 'replaced by a fresh upload');
    return session;
  };

  // A small blob goes in one PUT after the POST, with no session saved: a PATCH and a saved
  // (fsynced) state per blob cost more than sending it again after an interruption.
  const uploadWhole = async (desc: Descriptor, body: Readable, opts: WriteBlobOptions): Promise<void> => {
    const known = confirmed.get(desc.digest);
    confirmed.delete(desc.digest);
    let session: UploadSession;
    try {
      session = await client.startUpload(repo, { ...chunk, ...signalOf(opts) });
    } catch (err) {
      body.destroy();
      throw err;
    }
    // A session an earlier run saved for this blob, which this one does not continue.
    if (known) await discard(known, desc.digest, 'replaced by a fresh upload');
    // On failure the session is left to the registry's purge of abandoned uploads: distribution
    // refuses to DELETE a session that received part of a body (its offset no longer matches),
    // and a cleanup request would add retries and waits to a failure (or a Ctrl-C) for nothing.
    await session.finishWith(verified(body, desc), desc.digest, { length: desc.size, ...signalOf(opts) });
    opts.onProgress?.(desc.size);
    if (known) await store.remove(desc.digest);
  };

  const upload = async (desc: Descriptor, body: Readable, opts: WriteBlobOptions): Promise<void> => {
    const from = opts.from;
    if (from === 0 && desc.size <= wholeMax) return uploadWhole(desc, body, opts);
    let session: UploadSession;
    try {
      session = await open(desc, from, opts);
    } catch (err) {
      body.destroy();
      throw err;
    }
    const input = from === 0 ? verified(body, desc) : body;
    try {
      await session.write(input, {
        length: desc.size - from,
        onChunk: (state) => store.write(desc.digest, state),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        ...signalOf(opts),
      });
      await session.finish(desc.digest, signalOf(opts));
    } catch (err) {
      if (isGantryError(err, 'DIGEST_MISMATCH') || isGantryError(err, 'SIZE_MISMATCH')) {
        await discard(session, desc.digest, err.code);
        await store.remove(desc.digest);
      }
      throw err;
    }
    await store.remove(desc.digest);
  };

  return {
    description: `docker://${formatReference(ref)}`,

    async hasBlob(desc, opts) {
      if (present.has(keyOf(desc))) return true;
      const stat = await client.statBlob(repo, desc.digest, signalOf(opts));
      const there = stat !== undefined && stat.size === desc.size;
      if (there) seen(desc);
      return there;
    },

    knownPresent: (desc) => present.has(keyOf(desc)),

    async tryMount(desc: Descriptor, origin: BlobOrigin, opts?: TransportOptions) {
      const fromSource = origin.registry === ref.registry && origin.repository ? [origin.repository] : [];
      const known = locations ? await locations.find(ref.registry, desc.digest) : [];
      // The source's repository first, then the last places it was seen: two tries at most, as a
      // stale hint costs a refused mount (and the session it opens) before the upload.
      const candidates = [...new Set([...fromSource, ...known])].filter((r) => r !== ref.repository).slice(0, MOUNT_TRIES);
      for (const from of candidates) {
        // Only the source's own repository on this registry is not a hint (a repository of the
        // same name elsewhere, remembered here, is one).
        const remembered = !fromSource.includes(from);
        // Other blobs' mounts may have been refused since this one looked: ask again before each.
        if (remembered && locations && (await locations.givenUp(ref.registry))) break;
        let mounted: boolean;
        try {
          mounted = await client.mountBlob(repo, desc.digest, from, signalOf(opts));
        } catch (err) {
          // A remembered place must never fail the copy: a registry refusing the mount in any
          // way (403, 404, 405, a token service that says no) only means no mount from there.
          if (!remembered || !isGantryError(err) || err.code === 'INTERRUPTED' || opts?.signal?.aborted) throw err;
          log?.(`registry target: mount of ${desc.digest} from ${from} (remembered) failed: ${err.code}; the blob will be copied`);
          mounted = false;
        }
        if (mounted) {
          seen(desc);
          // The registry mounts: whatever was refused elsewhere was a stale place, not the registry.
          locations?.mounted(ref.registry);
          return remembered ? from : true;
        }
        if (remembered) locations?.refused(ref.registry, from, desc.digest);
      }
      return false;
    },

    async stagedBytes(desc, opts) {
      const session = await resume(desc, opts);
      if (!session) return 0;
      confirmed.set(desc.digest, session);
      return session.offset;
    },

    async writeBlob(desc, body, opts) {
      const from = opts.from;
      if (!Number.isSafeInteger(from) || from < 0 || from > desc.size) throw new Error(`writeBlob: from must be within 0..${desc.size}, got ${from}`);
      // Copies running side by side in this process (mirror, --all-tags) may push the same blob
      // into the same repository; they share one saved session, so one uploads and the other
      // waits, then finds the blob there.
      const { release, waited } = await uploadTurn(`${ref.registry}/${ref.repository}@${desc.digest}`);
      try {
        // Only after waiting can the blob have appeared: no extra request otherwise.
        const there = waited ? await client.statBlob(repo, desc.digest, signalOf(opts)) : undefined;
        if (there !== undefined && there.size === desc.size) {
          body.destroy();
          opts.onProgress?.(desc.size);
          return;
        }
        await upload(desc, body, opts);
        seen(desc);
      } finally {
        release();
      }
    },

    async hasManifest(desc, opts) {
      try {
        const head = await client.headManifest({ ...repo, digest: desc.digest }, { accept: acceptFor(desc), ...signalOf(opts) });
        return head.digest === desc.digest;
      } catch (err) {
        if (isGantryError(err, 'MANIFEST_UNKNOWN') || isGantryError(err, 'NOT_FOUND') || isGantryError(err, 'NAME_UNKNOWN')) return false;
        throw err;
      }
    },

    async namesAt(root, names, opts) {
      const answers = await Promise.all(
        names.map(async (name) => {
          try {
            const head = await client.headManifest(withTag(repo, name), { accept: acceptFor(root), ...signalOf(opts) });
            return head.digest === root.digest;
          } catch (err) {
            // Only an optimisation: a tag it cannot tell about (missing, denied, a failing HEAD) is written.
            if (isGantryError(err, 'INTERRUPTED') || opts?.signal?.aborted) throw err;
            return false;
          }
        }),
      );
      return names.filter((_, i) => answers[i]);
    },

    // A PUT by tag stores the manifest it names: the engine need not PUT a tagged root by digest too.
    commitStoresRoot: true,

    async writeManifest(desc, bytes, opts) {
      verifyBytes(bytes, { digest: desc.digest, size: desc.size });
      await client.putManifest({ ...repo, digest: desc.digest }, bytes, desc.mediaType, signalOf(opts));
      written.set(desc.digest, { bytes, mediaType: desc.mediaType });
    },

    async commit(root, names, opts) {
      if (names.length === 0) return;
      let manifest = written.get(root.digest) ?? (opts?.bytes && root.mediaType ? { bytes: opts.bytes, mediaType: root.mediaType } : undefined);
      if (!manifest) {
        // Already there (hasManifest) and no bytes given: read back the exact bytes, digest-checked, rather than re-serialize anything.
        const fetched = await client.getManifest({ ...repo, digest: root.digest }, { accept: acceptFor(root), ...signalOf(opts) });
        manifest = { bytes: fetched.bytes, mediaType: root.mediaType || fetched.mediaType };
      }
      for (const name of names) {
        await client.putManifest(withTag(repo, name), manifest.bytes, manifest.mediaType, signalOf(opts));
      }
    },

    async close() {
      confirmed.clear();
      written.clear();
    },
  };
}

/** The body through a verifier of the whole blob: a mismatch fails the stream before the upload is finished. */
function verified(body: Readable, desc: Descriptor): Readable {
  const verifier = createVerifier({ digest: desc.digest, size: desc.size });
  // pipeline hands a failure of either side to the verifier, which the upload reads.
  return pipeline(body, verifier, (err) => {
    if (err) verifier.destroy(err);
  });
}

function acceptFor(desc: Descriptor): string[] {
  return desc.mediaType && !MANIFEST_ACCEPT.includes(desc.mediaType) ? [desc.mediaType, ...MANIFEST_ACCEPT] : [...MANIFEST_ACCEPT];
}

/** Repositories a blob is tried from, per blob: the source's, then where it was last seen. */
const MOUNT_TRIES = 2;

/** Uploads in flight in this process, by registry/repository@digest: each waits for the one before. */
const uploadTurns = new Map<string, Promise<void>>();

/** Wait until no other upload of `key` runs in this process; `waited` says whether one did. */
async function uploadTurn(key: string): Promise<{ release: () => void; waited: boolean }> {
  const before = uploadTurns.get(key);
  const previous = before ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const chained = previous.then(() => mine);
  uploadTurns.set(key, chained);
  await previous;
  return {
    waited: before !== undefined,
    release: () => {
      release();
      if (uploadTurns.get(key) === chained) uploadTurns.delete(key);
    },
  };
}
