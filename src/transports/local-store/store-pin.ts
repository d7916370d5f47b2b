import { fileSize } from '../../internal/blob-file.js';
import { ensureLayout, withLayoutLock } from '../oci-layout/layout-index.js';
import { layoutMarkerPath } from '../oci-layout/layout-paths.js';
import { storeDir, type PathEnv } from './paths.js';
import { createPin, type StorePin } from './pins.js';

/** A lazily taken pin on the store for the lifetime of one source or target (see pins.ts). */
export interface StoreHold {
  /** Take the pin if not yet taken; with `create`, make the store first when it does not exist. */
  acquire(options: { create: boolean; signal?: AbortSignal | undefined }): Promise<void>;
  release(): Promise<void>;
}

/** A hold on the store at `storeDir(env)`; nothing is touched until `acquire`. */
export function createStoreHold(env: PathEnv): StoreHold {
  const dir = storeDir(env);
  let pin: Promise<StorePin | undefined> | undefined;
  return {
    acquire({ create, signal }) {
      pin ??= (async () => {
        if (create) await ensureLayout(dir, signal);
        else if ((await fileSize(layoutMarkerPath(dir))) === undefined) return undefined;
        return withLayoutLock(dir, () => createPin(env), signal);
      })().catch((err: unknown) => {
        pin = undefined;
        throw err;
      });
      return pin.then(() => undefined);
    },
    async release() {
      const held = pin;
      pin = undefined;
      const [outcome] = await Promise.allSettled(held === undefined ? [] : [held]);
      if (outcome?.status === 'fulfilled') await outcome.value?.release();
    },
  };
}
