import { throwIfAborted } from '../../internal/abort.js';
import type { Descriptor } from '../../media/types.js';
import { familiarReference, repositoryOf, withTag } from '../../reference/index.js';
import type { Reference } from '../../reference/types.js';
import { hasLayoutBlob } from '../oci-layout/layout-blobs.js';
import { applyCommit, updateLayoutIndex } from '../oci-layout/layout-index.js';
import { createOciLayoutTarget } from '../oci-layout/oci-layout-target.js';
import type { ImageTarget } from '../types.js';
import { storeDir, type PathEnv } from './paths.js';
import { createStoreHold } from './store-pin.js';
import { storeName } from './store-names.js';

/**
 * Write an image into gantry's local store (`storeDir(env)`, an OCI layout
 * created on first write), as `gantry pull` does.
 *
 * Blobs are staged, verified and published as in an OCI layout target
 * (resumable, nothing unverified ever looks complete). Names: when `ref` has
 * a tag the image is named `repository:tag`, whatever names `commit` gets;
 * when it has a digest only, `repository@<root digest>` (the root written,
 * which differs from `ref`'s when platforms were filtered); when it has
 * neither (`--all-tags`), each name given is a tag in its repository, and
 * with none it is named by digest too. index.json changes are made
 * under the store lock, so concurrent gantry processes never lose each
 * other's names; the target pins the store while it is open (pins.ts), so a
 * concurrent `rmi` does not collect the blobs it has written but not yet
 * committed. Call `close()` to release the pin.
 *
 * Throws what the OCI layout target throws; REFERENCE_INVALID for a name
 * that is not a valid tag.
 */
export function createLocalStoreTarget(env: PathEnv, ref: Reference): ImageTarget {
  const dir = storeDir(env);
  const layout = createOciLayoutTarget(dir, { where: 'the local store' });
  const hold = createStoreHold(env);
  const held = (signal: AbortSignal | undefined): Promise<void> => hold.acquire({ create: true, signal });

  return {
    description: `local:${familiarReference(ref)}`,
    async hasBlob(desc, transport) {
      await held(transport?.signal);
      return layout.hasBlob(desc, transport);
    },
    async stagedBytes(desc, transport) {
      await held(transport?.signal);
      return layout.stagedBytes(desc, transport);
    },
    async writeBlob(desc, body, options) {
      try {
        await held(options.signal);
      } catch (err) {
        body.destroy();
        throw err;
      }
      return layout.writeBlob(desc, body, options);
    },
    async hasManifest(desc, transport) {
      await held(transport?.signal);
      return layout.hasManifest(desc, transport);
    },
    async writeManifest(desc, bytes, transport) {
      await held(transport?.signal);
      return layout.writeManifest(desc, bytes, transport);
    },
    async commit(root, names, transport) {
      throwIfAborted(transport?.signal);
      await held(transport?.signal);
      if (!(await hasLayoutBlob(dir, root))) throw new Error(`commit of ${root.digest} before it was written to the local store`);
      const stored = namesFor(ref, root, names);
      await updateLayoutIndex(dir, (manifests) => applyCommit(manifests, root, stored), transport?.signal);
    },
    async close() {
      await hold.release();
    },
  };
}

function namesFor(ref: Reference, root: Descriptor, names: readonly string[]): string[] {
  if (ref.tag !== undefined) return [storeName(ref)];
  if (ref.digest === undefined && names.length > 0) return names.map((tag) => storeName(withTag(ref, tag)));
  return [`${repositoryOf(ref)}@${root.digest}`];
}
