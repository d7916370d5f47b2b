import { describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import { runMirror, type MirrorCopyRequest, type MirrorOps, type RateBudget } from '../../../src/mirror/run.js';
import type { MirrorSource, MirrorSpec, TagSelection } from '../../../src/mirror/types.js';
import { parseRepository, repositoryOf } from '../../../src/reference/index.js';
import type { Reference } from '../../../src/reference/types.js';

// The runner against in-memory registries: no network. Each fake registry is
// repository → tag → digest; copy writes the source's digest at the destination.

type Registries = Map<string, Map<string, string>>;

const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;

function selection(partial: Partial<TagSelection> = {}): TagSelection {
  return { tags: [], include: [], exclude: [], includePrerelease: false, ...partial };
}

function source(repo: string, dsts: string[], partial: Partial<TagSelection> = {}): MirrorSource {
  return { repository: parseRepository(repo), selection: selection(partial), destinations: dsts.map((d) => ({ repository: parseRepository(d) })) };
}

function spec(...sources: MirrorSource[]): MirrorSpec {
  return { defaults: { skipExisting: false, prune: false, includePrerelease: false, registries: {} }, sources };
}

interface Fake {
  ops: MirrorOps;
  repos: Registries;
  calls: { list: string[]; head: string[]; copy: string[]; untag: string[] };
  /** Copies running at once, at most. */
  peak: () => number;
}

function fake(initial: Record<string, Record<string, string>>, options: { failCopy?: (r: MirrorCopyRequest) => boolean; budget?: (copies: number) => RateBudget | undefined } = {}): Fake {
  const repos: Registries = new Map(Object.entries(initial).map(([k, v]) => [repositoryOf(parseRepository(k)), new Map(Object.entries(v))]));
  const calls = { list: [] as string[], head: [] as string[], copy: [] as string[], untag: [] as string[] };
  let running = 0;
  let peak = 0;
  const tagged = (ref: Reference): string => `${repositoryOf(ref)}:${ref.tag ?? ''}`;
  const ops: MirrorOps = {
    listTags: async (repo) => {
      calls.list.push(repositoryOf(repo));
      const tags = repos.get(repositoryOf(repo));
      return tags === undefined ? undefined : [...tags.keys()];
    },
    headDigest: async (ref) => {
      calls.head.push(tagged(ref));
      return repos.get(repositoryOf(ref))?.get(ref.tag ?? '');
    },
    copy: async (request) => {
      calls.copy.push(`${tagged(request.source)}>${tagged(request.destination)}`);
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (options.failCopy?.(request)) throw new GantryError('AUTH_DENIED', `push to ${tagged(request.destination)} denied`);
      const d = repos.get(repositoryOf(request.source))?.get(request.tag) as string;
      const dst = repos.get(repositoryOf(request.destination)) ?? new Map<string, string>();
      repos.set(repositoryOf(request.destination), dst);
      dst.set(request.tag, d);
      return { bytes: 100 };
    },
    untag: async (ref) => {
      calls.untag.push(tagged(ref));
      repos.get(repositoryOf(ref))?.delete(ref.tag ?? '');
    },
    ...(options.budget ? { rateLimit: () => options.budget?.(calls.copy.length) } : {}),
  };
  return { ops, repos, calls, peak: () => peak };
}

const SRC = 'src.example.com/app';
const DST = 'dst.example.com/app';
const full = (r: string): string => repositoryOf(parseRepository(r));

describe('runMirror', () => {
  it('copies what differs, leaves what matches, and a second run copies nothing', async () => {
    const f = fake({ [SRC]: { '1.0': digest(1), '1.1': digest(2), '2.0': digest(3) }, [DST]: { '1.0': digest(1), '1.1': digest(9) } });
    const first = await runMirror(spec(source(SRC, [DST], { semver: '>=1.0' })), f.ops);
    expect(first.records.map((r) => [r.tag, r.action])).toEqual([
      ['1.0', 'up-to-date'],
      ['1.1', 'copy'],
      ['2.0', 'copy'],
    ]);
    expect(first.summary).toMatchObject({ copied: 2, upToDate: 1, failed: 0, bytes: 200 });
    f.calls.copy.length = 0;
    f.calls.head.length = 0;
    const second = await runMirror(spec(source(SRC, [DST], { semver: '>=1.0' })), f.ops);
    expect(second.summary).toMatchObject({ copied: 0, upToDate: 3 });
    expect(f.calls.copy).toEqual([]);
    expect(f.calls.head.sort()).toEqual([`${full(DST)}:1.0`, `${full(DST)}:1.1`, `${full(DST)}:2.0`, `${full(SRC)}:1.0`, `${full(SRC)}:1.1`, `${full(SRC)}:2.0`].sort());
  });

  it('isolates failures: a missing source repository and a denied copy fail alone', async () => {
    const f = fake({ [SRC]: { a: digest(1), b: digest(2) }, 'src.example.com/other': { x: digest(5) } }, { failCopy: (r) => r.tag === 'a' });
    const result = await runMirror(
      spec(source('src.example.com/missing', ['dst.example.com/missing']), source(SRC, [DST]), source('src.example.com/other', ['dst.example.com/other'])),
      f.ops,
    );
    const byTag = Object.fromEntries(result.records.map((r) => [`${r.source}:${r.tag}`, r]));
    expect(byTag[`${full('src.example.com/missing')}:*`]).toMatchObject({ action: 'failed', error: expect.stringContaining('repository not found') });
    expect(byTag[`${full(SRC)}:a`]).toMatchObject({ action: 'failed', error: expect.stringContaining('denied') });
    expect(byTag[`${full(SRC)}:b`]?.action).toBe('copy');
    expect(byTag[`${full('src.example.com/other')}:x`]?.action).toBe('copy');
    expect(result.summary).toMatchObject({ copied: 2, failed: 2 });
  });

  it('dry-run plans and reports but copies and untags nothing', async () => {
    const f = fake({ [SRC]: { a: digest(1) }, [DST]: { old: digest(7) } });
    const seen: string[] = [];
    const result = await runMirror(spec(source(SRC, [DST])), f.ops, { dryRun: true, prune: true, onRecord: (r) => seen.push(`${r.tag}:${r.action}`) });
    expect(result.records.map((r) => `${r.tag}:${r.action}`)).toEqual(['a:copy', 'old:prune']);
    expect(seen.sort()).toEqual(['a:copy', 'old:prune']);
    expect(f.calls.copy).toEqual([]);
    expect(f.calls.untag).toEqual([]);
  });

  it('skip-existing leaves an existing destination tag alone even when its digest differs', async () => {
    const f = fake({ [SRC]: { a: digest(1), b: digest(2) }, [DST]: { a: digest(9) } });
    const result = await runMirror(spec(source(SRC, [DST])), f.ops, { skipExisting: true });
    expect(result.records.map((r) => `${r.tag}:${r.action}`)).toEqual(['a:skip-existing', 'b:copy']);
    expect(f.repos.get(full(DST))?.get('a')).toBe(digest(9));
  });

  it('prunes only unselected tags and keeps one that shares a kept manifest', async () => {
    const f = fake({ [SRC]: { '1.0': digest(1), '2.0': digest(2) }, [DST]: { '1.0': digest(1), '0.9': digest(8), alias: digest(1) } });
    const result = await runMirror(spec(source(SRC, [DST], { semver: '>=1.0' })), f.ops, { prune: true });
    expect(result.records.map((r) => `${r.tag}:${r.action}`)).toEqual(['1.0:up-to-date', '2.0:copy', '0.9:prune', 'alias:keep-shared']);
    expect(f.calls.untag).toEqual([`${full(DST)}:0.9`]);
    expect([...(f.repos.get(full(DST))?.keys() ?? [])].sort()).toEqual(['1.0', '2.0', 'alias']);
  });

  it('never prunes a destination whose source could not be listed', async () => {
    const f = fake({ [DST]: { a: digest(1) } });
    const result = await runMirror(spec(source(SRC, [DST])), f.ops, { prune: true });
    expect(result.records.map((r) => r.action)).toEqual(['failed']);
    expect(f.calls.untag).toEqual([]);
  });

  it('shards split the work into disjoint parts whose union is the whole', async () => {
    const tags = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`t${i}`, digest(i + 1)]));
    const copied: string[][] = [];
    for (const index of [0, 1, 2]) {
      const f = fake({ [SRC]: tags });
      await runMirror(spec(source(SRC, [DST])), f.ops, { shard: { index, count: 3 } });
      copied.push(f.calls.copy);
      // HEADs too stay inside the shard: one per copied tag per side.
      expect(f.calls.head).toHaveLength(f.calls.copy.length * 2);
    }
    const all = copied.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(20);
    expect(copied.every((part) => part.length < 20)).toBe(true);
  });

  it('copies at most `concurrency` images at once', async () => {
    const tags = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`t${i}`, digest(i + 1)]));
    const f = fake({ [SRC]: tags });
    const result = await runMirror(spec(source(SRC, [DST])), f.ops, { concurrency: 3 });
    expect(result.summary.copied).toBe(12);
    expect(f.peak()).toBe(3);
  });

  it('copies tags naming the same image to one destination one after another, not racing', async () => {
    const f = fake({ [SRC]: { a: digest(1), b: digest(1), c: digest(1), d: digest(2) } });
    const result = await runMirror(spec(source(SRC, [DST])), f.ops, { concurrency: 4 });
    expect(result.summary.copied).toBe(4);
    // a, b and c share digest 1 and run in sequence; d runs beside them.
    expect(f.peak()).toBe(2);
  });

  it('stops starting copies when the source registry budget runs low, and says what was left', async () => {
    const tags = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`t${i}`, digest(i + 1)]));
    // 100 pulls, 14 left before the run; each copy spends one. The 10% reserve is hit after 4 copies.
    const f = fake({ [SRC]: tags }, { budget: (copies) => ({ limit: 100, remaining: 14 - copies }) });
    const result = await runMirror(spec(source(SRC, [DST])), f.ops, { concurrency: 1 });
    expect(f.calls.copy).toHaveLength(4);
    expect(result.summary).toMatchObject({ copied: 4, failed: 6 });
    expect(result.stopped).toEqual({ registry: 'src.example.com', remaining: 10, limit: 100, undone: 6 });
    expect(result.records.filter((r) => r.action === 'failed').every((r) => r.error?.includes('10 of 100 pulls left'))).toBe(true);
  });

  it('asks the source HEAD, and only it, for the digest a platform-filtered copy would write', async () => {
    const f = fake({ [SRC]: { a: digest(1) } });
    const asked: Array<[string, string | undefined]> = [];
    const head = f.ops.headDigest;
    f.ops.headDigest = async (ref, op) => {
      asked.push([repositoryOf(ref), op.platforms?.map((p) => p.architecture).join(',')]);
      return head(ref, op);
    };
    const withPlatforms = { ...source(SRC, [DST]), platforms: [{ os: 'linux', architecture: 'arm64' }] };
    await runMirror(spec(withPlatforms), f.ops);
    expect(asked.sort()).toEqual([
      [full(DST), undefined],
      [full(SRC), 'arm64'],
    ]);
    expect(f.calls.copy).toHaveLength(1);
  });

  it('marks source HEADs as such, so the copy that follows may reuse what they learned', async () => {
    const f = fake({ [SRC]: { a: digest(1) }, [DST]: { a: digest(2) } });
    const asked: Array<[string, boolean]> = [];
    const head = f.ops.headDigest;
    f.ops.headDigest = async (ref, op) => {
      asked.push([repositoryOf(ref), op.source === true]);
      return head(ref, op);
    };
    await runMirror(spec(source(SRC, [DST])), f.ops);
    expect(asked.sort()).toEqual([
      [full(DST), false],
      [full(SRC), true],
    ]);
  });

  it('tells a copy its root is absent at the destination only when no HEAD of the run saw it there and no earlier copy wrote it', async () => {
    // a and b name digest 1 (copied in turn: only the first is told); c's destination tag names another
    // digest (told); f's digest 3 is what the destination's g names already (not told).
    const f = fake({ [SRC]: { a: digest(1), b: digest(1), c: digest(2), f: digest(3), g: digest(3) }, [DST]: { c: digest(9), g: digest(3) } });
    const told: Array<[string, string | undefined]> = [];
    const copy = f.ops.copy;
    f.ops.copy = async (request, op) => {
      told.push([request.tag, request.absentAtDestination]);
      return copy(request, op);
    };
    const result = await runMirror(spec(source(SRC, [DST])), f.ops, { concurrency: 1 });
    expect(result.records.map((r) => [r.tag, r.action])).toEqual([
      ['a', 'copy'],
      ['b', 'copy'],
      ['c', 'copy'],
      ['f', 'copy'],
      ['g', 'up-to-date'],
    ]);
    expect(told).toEqual([
      ['a', digest(1)],
      ['b', undefined],
      ['c', digest(2)],
      ['f', undefined],
    ]);
  });

  it('with prune, a digest any destination tag names is not told absent, selected or not', async () => {
    const f = fake({ [SRC]: { a: digest(1), b: digest(2) }, [DST]: { old: digest(1) } });
    const told: Array<[string, string | undefined]> = [];
    const copy = f.ops.copy;
    f.ops.copy = async (request, op) => {
      told.push([request.tag, request.absentAtDestination]);
      return copy(request, op);
    };
    await runMirror(spec(source(SRC, [DST])), f.ops, { prune: true, concurrency: 1 });
    expect(told).toEqual([
      ['a', undefined],
      ['b', digest(2)],
    ]);
  });

  it('stops with INTERRUPTED when the signal aborts', async () => {
    const f = fake({ [SRC]: { a: digest(1) } });
    const controller = new AbortController();
    controller.abort();
    await expect(runMirror(spec(source(SRC, [DST])), f.ops, { signal: controller.signal })).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(f.calls.list).toEqual([]);
  });
});
