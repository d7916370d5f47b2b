import { resolve } from 'node:path';
import { throwIfAborted } from '../../internal/abort.js';
import type { Descriptor } from '../../media/types.js';
import type { ImageTarget, TransportOptions } from '../types.js';
import { hasLayoutBlob, stagedLayoutBytes, writeLayoutBlob, writeLayoutManifest } from './layout-blobs.js';
import { applyCommit, ensureLayout, updateLayoutIndex } from './layout-index.js';
import { checkRefName } from './ref-name.js';

export interface OciLayoutTargetOptions {
  /**
   * The name to give the image (`oci:DIR:TAG`). When set, `commit` writes
   * exactly this name whatever names it is given; when not, it writes the
   * names it is given (none: the root is added unnamed, as skopeo does).
   */
  tag?: string;
  /** The location without the name, for messages and the description; default `oci:DIR`. */
  where?: string;
}

/**
 * Write images into an OCI image layout directory, creating it when missing
 * (`oci-layout` 1.0.0, an empty `index.json`).
 *
 * Blobs are staged under `blobs/<alg>/.partial/`, hashed on the way (a staged
 * prefix is re-hashed first, so an interrupted write resumes from
 * `stagedBytes`), fsynced and renamed into place only when size and digest
 * match; on a mismatch the staged file is deleted and SIZE_MISMATCH /
 * DIGEST_MISMATCH thrown. `hasBlob` is a size check of the final file, which
 * only ever appears verified. `commit` updates index.json atomically under a
 * lock, replacing entries of the same name and keeping the others, so several
 * processes can write one layout at once.
 *
 * Throws GantryError USAGE at creation for a tag that is no valid ref.name,
 * UNSUPPORTED / MANIFEST_INVALID when DIR holds an unusable layout.
 */
export function createOciLayoutTarget(dir: string, options: OciLayoutTargetOptions = {}): ImageTarget {
  const root = resolve(dir);
  const tag = options.tag === undefined ? undefined : checkRefName(options.tag);
  const where = options.where ?? `oci:${root}`;
  let ready: Promise<void> | undefined;
  const prepare = (signal: AbortSignal | undefined): Promise<void> => {
    ready ??= ensureLayout(root, signal).catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    return ready;
  };

  return {
    description: `${where}${tag === undefined ? '' : `:${tag}`}`,
    async hasBlob(desc) {
      return hasLayoutBlob(root, desc);
    },
    async stagedBytes(desc) {
      return stagedLayoutBytes(root, desc);
    },
    async writeBlob(desc, body, writeOptions) {
      try {
        await prepare(writeOptions.signal);
      } catch (err) {
        body.destroy();
        throw err;
      }
      await writeLayoutBlob(root, desc, body, writeOptions);
    },
    async hasManifest(desc) {
      return hasLayoutBlob(root, desc);
    },
    async writeManifest(desc, bytes, transport) {
      throwIfAborted(transport?.signal);
      await prepare(transport?.signal);
      await writeLayoutManifest(root, desc, bytes);
    },
    async commit(rootDesc, names, transport) {
      await commitToLayout(root, rootDesc, tag === undefined ? names.map(checkRefName) : [tag], transport, prepare);
    },
    async close() {
      // Every write is complete (or staged for resume) when its call settles; nothing to release.
    },
  };
}

async function commitToLayout(
  dir: string,
  root: Descriptor,
  names: string[],
  transport: TransportOptions | undefined,
  prepare: (signal: AbortSignal | undefined) => Promise<void>,
): Promise<void> {
  throwIfAborted(transport?.signal);
  await prepare(transport?.signal);
  // The engine writes children first; a commit naming absent content is its bug, not the user's.
  if (!(await hasLayoutBlob(dir, root))) throw new Error(`commit of ${root.digest} before it was written to ${dir}`);
  await updateLayoutIndex(dir, (manifests) => applyCommit(manifests, root, names), transport?.signal);
}
