import type { AccessLogEntry, RunningRegistry } from '../test/helpers/registry.js';

/**
 * The requests one mirror run made, counted from each registry's access log,
 * split the way the no-change target needs (issue 5): manifest HEADs per side
 * against everything else.
 */
export interface SideRequests {
  total: number;
  manifestHeads: number;
  manifestGets: number;
  manifestPuts: number;
  /** Any request under `/blobs/` (HEAD, GET, upload, mount). */
  blobs: number;
  /** `GET /v2/` and tag-list pages: the fixed overhead of a sync. */
  pingsAndLists: number;
  other: number;
}

export interface MirrorRequests {
  source: SideRequests;
  destination: SideRequests;
  total: number;
}

function classify(entries: AccessLogEntry[]): SideRequests {
  const s: SideRequests = { total: 0, manifestHeads: 0, manifestGets: 0, manifestPuts: 0, blobs: 0, pingsAndLists: 0, other: 0 };
  for (const e of entries) {
    s.total++;
    const path = e.path.split('?')[0] ?? e.path;
    if (path.includes('/manifests/')) {
      if (e.method === 'HEAD') s.manifestHeads++;
      else if (e.method === 'GET') s.manifestGets++;
      else if (e.method === 'PUT') s.manifestPuts++;
      else s.other++;
    } else if (path.includes('/blobs/')) s.blobs++;
    else if (path === '/v2/' || path === '/v2' || path.endsWith('/tags/list')) s.pingsAndLists++;
    else s.other++;
  }
  return s;
}

/** Access-log lengths of both registries, taken just before a run. */
export interface Marks {
  source: number;
  destination: number;
}

export async function markBoth(source: RunningRegistry, destination: RunningRegistry): Promise<Marks> {
  return { source: (await source.accessLog()).length, destination: (await destination.accessLog()).length };
}

/** What each registry saw since `marks`. */
export async function requestsSince(source: RunningRegistry, destination: RunningRegistry, marks: Marks): Promise<MirrorRequests> {
  const src = classify((await source.accessLog()).slice(marks.source));
  const dst = classify((await destination.accessLog()).slice(marks.destination));
  return { source: src, destination: dst, total: src.total + dst.total };
}

/**
 * The no-change target: at most one manifest HEAD per tag on each side, and
 * nothing else but pings and tag lists (plain registries issue no tokens).
 * Returns the reasons it is missed; empty when met.
 */
export function noChangeProblems(r: MirrorRequests, tags: number): string[] {
  const problems: string[] = [];
  for (const [name, side] of [
    ['source', r.source],
    ['destination', r.destination],
  ] as const) {
    if (side.manifestHeads > tags) problems.push(`${name}: ${side.manifestHeads} manifest HEADs for ${tags} tags`);
    const extra = side.manifestGets + side.manifestPuts + side.blobs + side.other;
    if (extra > 0) problems.push(`${name}: ${extra} requests beyond manifest HEADs, pings and tag lists (${side.manifestGets} manifest GET, ${side.manifestPuts} manifest PUT, ${side.blobs} blob, ${side.other} other)`);
  }
  return problems;
}

/** `src 500 HEAD + 2 ping/list; dst 500 HEAD + 2 ping/list` plus whatever else was asked. */
export function formatSide(s: SideRequests): string {
  const parts = [`${s.total} req`];
  if (s.manifestHeads) parts.push(`${s.manifestHeads} mHEAD`);
  if (s.manifestGets) parts.push(`${s.manifestGets} mGET`);
  if (s.manifestPuts) parts.push(`${s.manifestPuts} mPUT`);
  if (s.blobs) parts.push(`${s.blobs} blob`);
  if (s.pingsAndLists) parts.push(`${s.pingsAndLists} ping/list`);
  if (s.other) parts.push(`${s.other} other`);
  return parts.join(', ');
}
