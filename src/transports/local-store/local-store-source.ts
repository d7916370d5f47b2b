import { GantryError, isGantryError } from '../../errors/index.js';
import { throwIfAborted } from '../../internal/abort.js';
import { familiarReference } from '../../reference/index.js';
import type { Descriptor } from '../../media/types.js';
import type { Reference } from '../../reference/types.js';
import { openLayoutBlob, readLayoutManifest } from '../oci-layout/layout-blobs.js';
import { entryRoot, readLayoutIndex } from '../oci-layout/layout-index.js';
import type { ImageSource } from '../types.js';
import { storeDir, type PathEnv } from './paths.js';
import { createStoreHold } from './store-pin.js';
import { findStoreEntries } from './store-names.js';

const WHERE = 'the local store';

/**
 * Read an image from gantry's local store, as `gantry push REF` does: the
 * entry named like `ref` (see store-names.ts; a digest reference also finds
 * the image under any tag of its repository). Its names are `ref`'s tag.
 * The store is pinned while the source is open, so a concurrent `rmi` does
 * not collect blobs under a running push; call `close()` to release it.
 *
 * Throws GantryError NOT_FOUND when the store or the image is not there
 * (with a hint to pull it), and what the OCI layout source throws.
 */
export function createLocalStoreSource(env: PathEnv, ref: Reference): ImageSource {
  const dir = storeDir(env);
  const hold = createStoreHold(env);
  const description = `local:${familiarReference(ref)}`;
  const held = (signal: AbortSignal | undefined): Promise<void> => hold.acquire({ create: false, signal });

  return {
    description,
    origin: {},
    async images(transport) {
      throwIfAborted(transport?.signal);
      await held(transport?.signal);
      const missing = (): GantryError =>
        new GantryError('NOT_FOUND', `no image ${familiarReference(ref)} in the local store`, {
          hint: `Pull it first (gantry pull ${familiarReference(ref)}); gantry images lists what is there.`,
          details: { reference: familiarReference(ref) },
        });
      let entries: Descriptor[];
      try {
        entries = (await readLayoutIndex(dir)).manifests;
      } catch (err) {
        if (isGantryError(err, 'NOT_FOUND')) throw missing();
        throw err;
      }
      const [found] = findStoreEntries(entries, ref);
      if (found === undefined) throw missing();
      return [{ root: entryRoot(found), names: ref.tag === undefined ? [] : [ref.tag] }];
    },
    async manifest(desc, transport) {
      throwIfAborted(transport?.signal);
      await held(transport?.signal);
      return readLayoutManifest(dir, desc, WHERE);
    },
    async blob(desc, transport) {
      throwIfAborted(transport?.signal);
      await held(transport?.signal);
      return openLayoutBlob(dir, desc, {
        where: WHERE,
        ...(transport?.from === undefined ? {} : { from: transport.from }),
        ...(transport?.signal ? { signal: transport.signal } : {}),
      });
    },
    async close() {
      await hold.release();
    },
  };
}
