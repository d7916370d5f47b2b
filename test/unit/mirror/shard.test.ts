import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inShard, parseShard, shardFromEnv, shardKey, shardOf } from '../../../src/mirror/shard.js';

describe('shards', () => {
  it('hashes keys to a stable shard', () => {
    // Pinned values: changing the hash would reshuffle every running deployment's split.
    expect([0, 1, 2, 3].map((i) => shardOf(shardKey('docker.io/library/alpine', `3.${i}`), 4))).toEqual(
      [0, 1, 2, 3].map((i) => shardOf(`docker.io/library/alpine:3.${i}`, 4)),
    );
    expect(shardOf('docker.io/library/alpine:3.20', 1)).toBe(0);
    expect(shardOf('docker.io/library/alpine:3.20', 1000)).toBe(875);
    expect(shardOf('ghcr.io/org/app:v1.2.3', 1000)).toBe(68);
  });

  it('rejects a count that is not a positive integer', () => {
    expect(() => shardOf('a', 0)).toThrow(Error);
    expect(() => shardOf('a', 1.5)).toThrow(Error);
  });

  it.each([
    ['0/1', { index: 0, count: 1 }],
    ['3/4', { index: 3, count: 4 }],
    [' 2 / 10 ', { index: 2, count: 10 }],
  ])('parses %j', (text, shard) => {
    expect(parseShard(text)).toEqual(shard);
  });

  it.each(['4/4', '1/0', '0/0', '-1/4', '1', 'a/b', '1/2/3', '1.5/4', ''])('refuses %j with USAGE', (text) => {
    expect(() => parseShard(text)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('reads the Indexed Job index with a count from the job spec', () => {
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '2' }, { count: 5 })).toEqual({ index: 2, count: 5 });
    expect(shardFromEnv({}, { count: 5 })).toBeUndefined();
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '' })).toBeUndefined();
  });

  it.each<[Record<string, string>, number | undefined, RegExp]>([
    [{ JOB_COMPLETION_INDEX: '1' }, undefined, /shard count is unknown/],
    [{ JOB_COMPLETION_INDEX: '5' }, 5, /must be below 5/],
    [{ JOB_COMPLETION_INDEX: 'x' }, 5, /not a non-negative integer/],
  ])('refuses env %j with count %j', (env, count, message) => {
    expect(() => shardFromEnv(env, count === undefined ? {} : { count })).toThrow(message);
  });

  it('partitions keys: each key in exactly one shard, the same one every time', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { maxLength: 50 }), fc.integer({ min: 1, max: 16 }), (keys, count) => {
        const parts = Array.from({ length: count }, (_, index) => keys.filter((k) => inShard(k, { index, count })));
        expect(parts.flat().sort()).toEqual([...keys].sort());
        for (const k of keys) expect(parts.filter((p) => p.includes(k))).toHaveLength(1);
        for (const k of keys) expect(shardOf(k, count)).toBe(shardOf(k, count));
      }),
      { numRuns: 200 },
    );
  });
});
