export { gantryHome, storeDir, stateDir, type PathEnv } from './paths.js';
export { createLocalStoreSource } from './local-store-source.js';
export { createLocalStoreTarget } from './local-store-target.js';
export { listImages, type StoredImage } from './list-images.js';
export { removeImage, type RemovedImage } from './remove-image.js';
export { tagImage, type TaggedImage } from './tag-image.js';
export { collectGarbage, type GarbageReport } from './garbage.js';
export { storeName } from './store-names.js';
