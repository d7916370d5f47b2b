export type { MirrorDefaults, MirrorDestination, MirrorSource, MirrorSpec, RegistryLimits, TagSelection } from './types.js';
export { parseMirrorConfig, type ParseMirrorConfigOptions } from './config.js';
export { mirrorSchema } from './schema.js';
export { parseSkopeoSync, type SkopeoSyncOptions } from './skopeo-sync.js';
export { destinationRepository, type RegistryDestination } from './destination.js';
export { selectTags, type SelectedTags } from './select.js';
export { inShard, parseShard, shardFromEnv, shardKey, shardOf, type Shard, type ShardFromEnvOptions } from './shard.js';
export { planMirror, type DestinationTags, type ImageObservation, type PlanAction, type PlanInput, type PlanItem } from './plan.js';
export { recordOf, summarize, type MirrorRecord, type MirrorSummary } from './report.js';
