import { GantryError } from '../../errors/index.js';
import { fileSize } from '../../internal/blob-file.js';
import type { Descriptor } from '../../media/types.js';
import { familiarReference } from '../../reference/index.js';
import type { Reference } from '../../reference/types.js';
import { entryName, rewriteLayoutIndex, withLayoutLock } from '../oci-layout/layout-index.js';
import { layoutMarkerPath } from '../oci-layout/layout-paths.js';
import { collectGarbageLocked, type GarbageReport } from './garbage.js';
import { storeDir, type PathEnv } from './paths.js';
import { findStoreEntries } from './store-names.js';

/** What `removeImage` did. */
export interface RemovedImage {
  /** The store names removed (`docker.io/library/alpine:3.20`). */
  names: string[];
  /** Digest of the root the name pointed at. */
  digest: string;
  /** The blobs that went with it: those no remaining name uses. */
  garbage: GarbageReport;
}

/**
 * Remove an image's name from the local store (docker's `rmi`), then delete
 * the blobs no remaining name reaches; blobs shared with other images stay.
 * Both happen under the store lock, and collection is deferred while other
 * copies are in flight (pins.ts), so concurrent gantry processes never lose
 * content they are writing or reading.
 *
 * @throws GantryError NOT_FOUND when the store has no such image (hint:
 *   gantry images); FileLockTimeoutError when the lock stays held; fs errors.
 */
export async function removeImage(env: PathEnv, ref: Reference, options: { signal?: AbortSignal } = {}): Promise<RemovedImage> {
  const dir = storeDir(env);
  const notFound = (): GantryError =>
    new GantryError('NOT_FOUND', `no image ${familiarReference(ref)} in the local store`, {
      hint: 'gantry images lists what the local store holds.',
      details: { reference: familiarReference(ref) },
    });
  if ((await fileSize(layoutMarkerPath(dir))) === undefined) throw notFound();
  return withLayoutLock(
    dir,
    async () => {
      let removed: Descriptor[] = [];
      await rewriteLayoutIndex(dir, (manifests) => {
        removed = findStoreEntries(manifests, ref);
        if (removed.length === 0) throw notFound();
        return manifests.filter((m) => !removed.includes(m));
      });
      const garbage = await collectGarbageLocked(env);
      const [first] = removed;
      return { names: removed.map((m) => entryName(m) ?? ''), digest: first?.digest ?? '', garbage };
    },
    options.signal,
  );
}
