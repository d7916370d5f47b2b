export { copyImage, copyImages, DEFAULT_CONCURRENCY } from './copy-images.js';
export { LOCAL_LIMITER_KEY } from './copy-run.js';
export { planCopy, type CopyPlan, type PlannedImage, type PlannedManifest, type PlanOptions } from './plan.js';
export { filterPlatforms, type FilterOutcome } from './filter-platforms.js';
export { isRetryable, DEFAULT_ATTEMPTS } from './retry.js';
export type { CopyImage, CopyImagesResult, CopyOptions, CopyRequest, CopyResult } from './types.js';
export type { TransferEvent, TransferEventHandler } from './events.js';
