import type { MirrorRecord, MirrorRunResult } from '../mirror/index.js';
import { formatBytes, type Output } from './output.js';

const PLANNED: Record<MirrorRecord['action'], string> = {
  copy: 'copy',
  'up-to-date': 'up to date',
  'skip-existing': 'skip (exists)',
  prune: 'would prune',
  'keep-shared': 'keep (shared)',
  failed: 'failed',
};

/** The plan of a `--dry-run`: one row per item. */
export function printPlan(out: Output, result: MirrorRunResult): void {
  out.table(
    ['ACTION', 'SOURCE', 'DESTINATION', 'NOTE'],
    result.records.map((r) => [PLANNED[r.action], r.source === undefined ? '-' : `${r.source}:${r.tag}`, `${r.destination}:${r.tag}`, r.error ?? '']),
  );
}

/** One line on stderr as each image settles, so a long run shows progress. */
export function recordLine(record: MirrorRecord): string | undefined {
  if (record.action === 'up-to-date' || record.action === 'skip-existing' || record.action === 'keep-shared') return undefined;
  const what = `${record.destination}:${record.tag}`;
  if (record.action === 'failed') return `failed  ${what}: ${record.error ?? 'unknown error'}`;
  return record.action === 'copy' ? `copied  ${what} (${formatBytes(record.bytes)}, ${(record.durationMs / 1000).toFixed(1)}s)` : `pruned  ${what}`;
}

/** The final report: failures with reasons, then the totals. */
export function printSummary(out: Output, result: MirrorRunResult): void {
  const failed = result.records.filter((r) => r.action === 'failed');
  if (failed.length > 0) out.table(['FAILED', 'REASON'], failed.map((r) => [`${r.destination}:${r.tag}`, r.error ?? '']));
  const s = result.summary;
  if (!out.tty) {
    // Piped output lands in CI logs: one self-describing line rather than a headerless row.
    out.line(
      `mirror: ${s.copied} copied, ${s.upToDate} up to date, ${s.skipped} skipped, ${s.pruned} pruned, ${s.failed} failed, ` +
        `${formatBytes(s.bytes)} moved, ${(s.durationMs / 1000).toFixed(1)}s`,
    );
    return;
  }
  out.table(
    ['COPIED', 'UP TO DATE', 'SKIPPED', 'PRUNED', 'FAILED', 'BYTES', 'TIME'],
    [[s.copied, s.upToDate, s.skipped, s.pruned, s.failed, formatBytes(s.bytes), `${(s.durationMs / 1000).toFixed(1)}s`]],
  );
}
