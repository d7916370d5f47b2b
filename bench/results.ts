import type { Activity } from './registry-activity.js';
import type { Shape, Tool, Workload } from './options.js';

/** The measurements of a bench run, and their summaries (medians, min/max, ratios). */

export interface RunRecord {
  /** 1-based. */
  run: number;
  ok: boolean;
  exit: string;
  wallMs: number;
  maxRssKiB?: number;
  userS?: number;
  sysS?: number;
  /** What the registries saw during the run. */
  activity?: Activity;
  /** Why the run failed: the tool's exit, or what the check after it found wrong. */
  problem?: string;
}

/** All runs of one tool on one workload and shape. */
export interface Series {
  shape: Shape;
  workload: Workload;
  tool: Tool;
  runs: RunRecord[];
}

export interface Summary {
  okRuns: number;
  failedRuns: number;
  medianMs?: number;
  minMs?: number;
  maxMs?: number;
  medianRssMiB?: number;
  /** Median user + system CPU seconds (a tool that hashes on several cores can use more CPU than wall time). */
  medianCpuS?: number;
  /** The activity of the last successful run (runs of a tool do the same work). */
  activity?: Activity;
}

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] as number;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] as number) + hi) / 2;
}

/** Times and RSS over the successful runs only; a failed run has no meaningful time. */
export function summarize(series: Series): Summary {
  const ok = series.runs.filter((r) => r.ok);
  const summary: Summary = { okRuns: ok.length, failedRuns: series.runs.length - ok.length };
  if (ok.length === 0) return summary;
  const times = ok.map((r) => r.wallMs);
  const rss = ok.flatMap((r) => (r.maxRssKiB === undefined ? [] : [r.maxRssKiB / 1024]));
  const cpu = ok.flatMap((r) => (r.userS === undefined || r.sysS === undefined ? [] : [r.userS + r.sysS]));
  const last = ok[ok.length - 1];
  return {
    ...summary,
    medianMs: median(times),
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    ...(rss.length > 0 ? { medianRssMiB: median(rss) } : {}),
    ...(cpu.length > 0 ? { medianCpuS: median(cpu) } : {}),
    ...(last?.activity ? { activity: last.activity } : {}),
  };
}

/** gantry's median over skopeo's (lower is better); undefined unless both have one. */
export function ratio(gantry: Summary | undefined, skopeo: Summary | undefined): number | undefined {
  if (gantry?.medianMs === undefined || skopeo?.medianMs === undefined || skopeo.medianMs === 0) return undefined;
  return gantry.medianMs / skopeo.medianMs;
}
