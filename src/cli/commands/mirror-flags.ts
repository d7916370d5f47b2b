import type { MirrorSpecFlags } from '../mirror-spec.js';

/** The options of `gantry mirror`, as commander parses them. */
export interface MirrorFlags extends MirrorSpecFlags {
  dryRun?: boolean;
  prune?: boolean;
  yes?: boolean;
  skipExisting?: boolean;
  shard?: string;
  shards?: number;
  concurrency?: number;
  connections?: number;
  json?: boolean;
}

/** Connections per registry host when neither the file nor --connections says. */
export const DEFAULT_CONNECTIONS = 8;
