import { createHash } from 'node:crypto';
import { GantryError } from '../errors/index.js';

/** One part of a partitioned run: this process does the work items whose shard is `index`. */
export interface Shard {
  /** From 0, like Kubernetes' JOB_COMPLETION_INDEX. */
  index: number;
  /** How many parts the work is split into, at least 1. */
  count: number;
}

// Shard counts past this make no sense for one mirror file and would lose precision below.
const MAX_SHARDS = 1_000_000;

/**
 * The shard (0 … count-1) a work item belongs to: the first 8 bytes of
 * sha256(`key`), big-endian, modulo `count`. Stable across runs, machines
 * and Node versions, so N processes given the same file agree on the
 * partition without talking to each other. Mirror keys work items as
 * `${sourceRepository}:${tag}` (see `shardKey`), so every destination of
 * one source tag lands in the same shard and is copied from one fetch.
 * @throws Error when `count` is not an integer in 1 … 1,000,000 (a programmer error: parse with `parseShard`).
 */
export function shardOf(key: string, count: number): number {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) throw new Error(`shard count must be an integer in 1…${MAX_SHARDS}, got ${count}`);
  const prefix = createHash('sha256').update(key, 'utf8').digest().readBigUInt64BE(0);
  return Number(prefix % BigInt(count));
}

/** The key `shardOf` hashes for one tag of one source: `docker.io/library/alpine:3.20`. */
export function shardKey(sourceRepository: string, tag: string): string {
  return `${sourceRepository}:${tag}`;
}

/** Whether `key` is this shard's work; every key is some shard's when all of 0 … count-1 run. */
export function inShard(key: string, shard: Shard): boolean {
  return shardOf(key, shard.count) === shard.index;
}

/**
 * Parses `--shard I/N` (I from 0).
 * @throws GantryError USAGE unless both are decimal integers with 0 ≤ I < N ≤ 1,000,000.
 */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d{1,7})\s*\/\s*(\d{1,7})\s*$/.exec(text);
  if (m === null) {
    throw new GantryError('USAGE', `invalid shard "${text.slice(0, 40)}": expected I/N`, {
      hint: 'Write --shard 0/4 for the first of four parts; I counts from 0.',
    });
  }
  return checkShard(Number(m[1]), Number(m[2]));
}

/** Where `shardFromEnv` may find the shard count when no flag gives it. */
export interface ShardFromEnvOptions {
  /** `--shards N`: the count, the index coming from JOB_COMPLETION_INDEX. */
  count?: number;
}

/**
 * The shard for a Kubernetes Indexed Job: the index from JOB_COMPLETION_INDEX
 * (set by Kubernetes in every pod of an Indexed Job), the count from
 * `options.count` (`--shards N`). The pod is not told the job's
 * `completions`, so the count must come from the job spec, as an argument
 * or env var the manifest passes, never guessed. Returns undefined when
 * JOB_COMPLETION_INDEX is unset or empty (not an Indexed Job pod).
 * @throws GantryError USAGE when the index is set but no count is given, or
 *   when either is not an integer or the index is not below the count.
 */
export function shardFromEnv(env: Readonly<Record<string, string | undefined>>, options: ShardFromEnvOptions = {}): Shard | undefined {
  const raw = env['JOB_COMPLETION_INDEX'];
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\s*\d{1,7}\s*$/.test(raw)) {
    throw new GantryError('USAGE', `JOB_COMPLETION_INDEX is "${raw.slice(0, 40)}", not a non-negative integer`);
  }
  if (options.count === undefined) {
    throw new GantryError('USAGE', 'JOB_COMPLETION_INDEX is set but the shard count is unknown', {
      hint: 'Pass --shards N with N equal to the Indexed Job\'s completions (or --shard I/N).',
    });
  }
  return checkShard(Number(raw), options.count);
}

function checkShard(index: number, count: number): Shard {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) {
    throw new GantryError('USAGE', `invalid shard count ${count}: expected 1…${MAX_SHARDS}`);
  }
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new GantryError('USAGE', `invalid shard ${index}/${count}: the index counts from 0 and must be below ${count}`, {
      hint: `Use 0/${count} … ${count - 1}/${count}.`,
    });
  }
  return { index, count };
}
