import type { PlanAction, PlanItem } from './plan.js';

/**
 * One line of a mirror run's `--json` report: one per planned item, after
 * it ran (or would have, with `--dry-run`). `action` is the planned action;
 * when running it failed, `action` is `failed` and `error` says why.
 */
export interface MirrorRecord {
  /** The source repository (`docker.io/library/alpine`); absent for prune items. */
  source?: string;
  destination: string;
  tag: string;
  sourceDigest?: string;
  action: PlanAction;
  /** Bytes moved for this image (0 unless copied). */
  bytes: number;
  /** Wall time spent on this item, in milliseconds. */
  durationMs: number;
  error?: string;
}

/** The totals of a run, for the final table. */
export interface MirrorSummary {
  copied: number;
  upToDate: number;
  skipped: number;
  pruned: number;
  keptShared: number;
  failed: number;
  bytes: number;
  durationMs: number;
}

/** The record for a planned item, with what running it measured; `error` turns it into `failed`. */
export function recordOf(item: PlanItem, outcome: { bytes?: number; durationMs?: number; error?: string } = {}): MirrorRecord {
  const error = outcome.error ?? (item.action === 'failed' ? item.reason : undefined);
  return {
    ...(item.source === undefined ? {} : { source: item.source }),
    destination: item.destination,
    tag: item.tag,
    ...(item.sourceDigest === undefined ? {} : { sourceDigest: item.sourceDigest }),
    action: error === undefined ? item.action : 'failed',
    bytes: outcome.bytes ?? 0,
    durationMs: outcome.durationMs ?? 0,
    ...(error === undefined ? {} : { error }),
  };
}

/** Counts records by action and sums their bytes; `durationMs` is the run's wall time, which the caller measured. */
export function summarize(records: readonly MirrorRecord[], durationMs: number): MirrorSummary {
  const summary: MirrorSummary = { copied: 0, upToDate: 0, skipped: 0, pruned: 0, keptShared: 0, failed: 0, bytes: 0, durationMs };
  const field: Record<PlanAction, keyof Omit<MirrorSummary, 'bytes' | 'durationMs'>> = {
    copy: 'copied',
    'up-to-date': 'upToDate',
    'skip-existing': 'skipped',
    prune: 'pruned',
    'keep-shared': 'keptShared',
    failed: 'failed',
  };
  for (const r of records) {
    summary[field[r.action]] += 1;
    summary.bytes += r.bytes;
  }
  return summary;
}
