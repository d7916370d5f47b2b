import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planMirror, type ImageObservation } from '../../../src/mirror/plan.js';
import { recordOf, summarize } from '../../../src/mirror/report.js';
import { parseRepository } from '../../../src/reference/index.js';

const SRC = parseRepository('docker.io/library/alpine');
const DST = parseRepository('localhost:5000/alpine');
const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

function image(tag: string, sourceDigest: string | undefined, destinationDigest?: string, extra: Partial<ImageObservation> = {}): ImageObservation {
  return {
    source: SRC,
    destination: DST,
    tag,
    ...(sourceDigest === undefined ? {} : { sourceDigest }),
    ...(destinationDigest === undefined ? {} : { destinationDigest }),
    ...extra,
  };
}

describe('planMirror', () => {
  it('copies what differs and leaves what matches', () => {
    const plan = planMirror({ images: [image('3.19', D(1), D(1)), image('3.20', D(2), D(9)), image('3.21', D(3))] });
    expect(plan.map((p) => [p.tag, p.action])).toEqual([
      ['3.19', 'up-to-date'],
      ['3.20', 'copy'],
      ['3.21', 'copy'],
    ]);
    expect(plan[0]).toEqual({
      action: 'up-to-date',
      source: 'docker.io/library/alpine',
      destination: 'localhost:5000/alpine',
      tag: '3.19',
      sourceDigest: D(1),
      destinationDigest: D(1),
    });
  });

  it('skips existing tags without comparing digests when told to', () => {
    const plan = planMirror({
      skipExisting: true,
      images: [image('a', D(1), D(2)), image('b', undefined, undefined, { destinationHasTag: true, error: 'denied' }), image('c', D(3))],
    });
    expect(plan.map((p) => p.action)).toEqual(['skip-existing', 'skip-existing', 'copy']);
  });

  it('fails an image whose source could not be read, and a destination tag two sources write', () => {
    const other = parseRepository('ghcr.io/x/alpine');
    const plan = planMirror({ images: [image('a', undefined, undefined, { error: 'NAME_UNKNOWN' }), image('b', D(1)), image('b', D(2), undefined, { source: other })] });
    expect(plan.map((p) => [p.action, p.reason])).toEqual([
      ['failed', 'NAME_UNKNOWN'],
      ['copy', undefined],
      ['failed', 'localhost:5000/alpine:b is also mirrored from docker.io/library/alpine'],
    ]);
  });

  it('plans a repeated image once', () => {
    expect(planMirror({ images: [image('a', D(1)), image('a', D(1))] })).toHaveLength(1);
  });

  it('prunes unselected tags but keeps those sharing a kept manifest', () => {
    const tags = new Map([
      ['3.19', D(1)],
      ['old', D(7)],
      ['alias-of-3.19', D(1)],
      ['alias-of-new-3.20', D(2)],
    ]);
    const images = [image('3.19', D(1), D(1)), image('3.20', D(2))];
    const plan = planMirror({ images, prune: true, destinations: [{ repository: DST, tags }] });
    expect(plan.map((p) => [p.tag, p.action])).toEqual([
      ['3.19', 'up-to-date'],
      ['3.20', 'copy'],
      ['alias-of-3.19', 'keep-shared'],
      ['alias-of-new-3.20', 'keep-shared'],
      ['old', 'prune'],
    ]);
    expect(plan[2]?.reason).toBe('shares its manifest with kept tag 3.19');
    expect(planMirror({ images, destinations: [{ repository: DST, tags }] })).toHaveLength(2);
  });

  it('splits a plan into disjoint shards whose union is the whole plan', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,6}$/), { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), (tags, count) => {
        const images = tags.slice(0, Math.ceil(tags.length / 2)).map((t, i) => image(t, D(i % 9), D((i + 1) % 9)));
        const destTags = new Map(tags.map((t, i) => [t, D(i % 9)]));
        const input = { images, prune: true, destinations: [{ repository: DST, tags: destTags }] };
        const whole = planMirror(input);
        const parts = Array.from({ length: count }, (_, index) => planMirror({ ...input, shard: { index, count } }));
        const key = (p: { tag: string; action: string }) => `${p.tag}/${p.action}`;
        expect(parts.flat().map(key).sort()).toEqual(whole.map(key).sort());
        expect(new Set(parts.flat().map(key)).size).toBe(whole.length);
      }),
      { numRuns: 100 },
    );
  });
});

describe('mirror records', () => {
  it('records outcomes and sums them', () => {
    const [copy, same] = planMirror({ images: [image('a', D(1)), image('b', D(2), D(2))] });
    const records = [recordOf(copy!, { bytes: 100, durationMs: 5 }), recordOf(same!), recordOf(copy!, { error: 'BLOB_UNKNOWN' })];
    expect(records[0]).toEqual({ source: 'docker.io/library/alpine', destination: 'localhost:5000/alpine', tag: 'a', sourceDigest: D(1), action: 'copy', bytes: 100, durationMs: 5 });
    expect(records[2]).toMatchObject({ action: 'failed', error: 'BLOB_UNKNOWN' });
    expect(summarize(records, 42)).toEqual({ copied: 1, upToDate: 1, skipped: 0, pruned: 0, keptShared: 0, failed: 1, bytes: 100, durationMs: 42 });
  });
});
