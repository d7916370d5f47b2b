import { GantryError } from '../../errors/index.js';
import { familiarReference } from '../../reference/index.js';
import type { Reference } from '../../reference/types.js';
import { fileSize } from '../../internal/blob-file.js';
import { applyCommit, entryRoot, rewriteLayoutIndex, withLayoutLock } from '../oci-layout/layout-index.js';
import { layoutMarkerPath } from '../oci-layout/layout-paths.js';
import { storeDir, type PathEnv } from './paths.js';
import { findStoreEntries, storeName } from './store-names.js';

/** What `tagImage` did. */
export interface TaggedImage {
  /** The new store name (`docker.io/library/myapp:v2`). */
  name: string;
  /** Digest of the root both names now point at. */
  digest: string;
}

/**
 * Give a local image another name (docker's `tag`): `target` (a tagged
 * reference; `latest` when it has no tag) points at the root `source` names,
 * replacing whatever it named before. No blob is copied. The change is made
 * under the store lock.
 *
 * @throws GantryError NOT_FOUND when `source` is not in the store, USAGE when
 *   `target` has a digest; FileLockTimeoutError when the lock stays held.
 */
export async function tagImage(env: PathEnv, source: Reference, target: Reference, options: { signal?: AbortSignal } = {}): Promise<TaggedImage> {
  if (target.digest !== undefined) {
    throw new GantryError('USAGE', `a tag cannot name a digest: ${familiarReference(target)}`, { hint: 'Give the new name as NAME[:TAG].' });
  }
  const dir = storeDir(env);
  const notFound = (): GantryError =>
    new GantryError('NOT_FOUND', `no image ${familiarReference(source)} in the local store`, {
      hint: 'gantry images lists what the local store holds.',
      details: { reference: familiarReference(source) },
    });
  if ((await fileSize(layoutMarkerPath(dir))) === undefined) throw notFound();
  const name = storeName(target);
  return withLayoutLock(
    dir,
    async () => {
      let digest = '';
      await rewriteLayoutIndex(dir, (manifests) => {
        const [found] = findStoreEntries(manifests, source);
        if (found === undefined) throw notFound();
        digest = found.digest;
        return applyCommit(manifests, entryRoot(found), [name]);
      });
      return { name, digest };
    },
    options.signal,
  );
}
