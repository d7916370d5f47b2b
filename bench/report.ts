import { writeFile } from 'node:fs/promises';
import type { BenchOptions, Shape, Tool, Workload } from './options.js';
import { formatActivity } from './registry-activity.js';
import { ratio, summarize, type Series, type Summary } from './results.js';
import type { TargetCheck } from './targets.js';

/** Renders results as plain-text tables (stdout) and as JSON (for docs/performance.md). */

export const WORKLOAD_TITLES: Record<Workload, string> = {
  push: 'push: OCI layout → registry',
  'copy-same': 'copy: registry → same registry, another repository',
  'copy-same-cold': "copy: same registry, skopeo's blob-info cache emptied first (a fresh CI runner)",
  'copy-cross': 'copy: registry → another registry',
  pull: 'pull: registry → OCI layout',
  repush: 're-push: layout → registry where every blob exists',
};

export interface Environment {
  date: string;
  host: {
    cpus: number;
    cpuModel: string;
    memoryMiB: number;
    kernel: string;
    /** The 1-minute load average when the bench started: high means other work shared the CPUs. */
    loadAverage: number;
  };
  versions: Record<string, string>;
}

export interface Block {
  shape: Shape;
  workload: Workload;
  series: Partial<Record<Tool, Series>>;
}

function secs(ms: number | undefined): string {
  return ms === undefined ? '-' : `${(ms / 1000).toFixed(ms < 10_000 ? 3 : 2)} s`;
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

/** One workload's table: a row per tool, then the ratio. */
export function renderBlock(block: Block, tools: Tool[]): string {
  const rows: string[][] = [['tool', 'median', 'min', 'max', 'CPU', 'peak RSS', 'runs ok', 'registry activity (last ok run)']];
  const summaries: Partial<Record<Tool, Summary>> = {};
  for (const tool of tools) {
    const series = block.series[tool];
    if (!series) continue;
    const s = summarize(series);
    summaries[tool] = s;
    rows.push([
      tool,
      secs(s.medianMs),
      secs(s.minMs),
      secs(s.maxMs),
      s.medianCpuS === undefined ? '-' : `${s.medianCpuS.toFixed(2)} s`,
      s.medianRssMiB === undefined ? '-' : `${s.medianRssMiB.toFixed(0)} MiB`,
      `${s.okRuns}/${s.okRuns + s.failedRuns}`,
      s.activity ? formatActivity(s.activity) : '-',
    ]);
  }
  const lines = [`${WORKLOAD_TITLES[block.workload]} · ${block.shape.label}`, table(rows)];
  if (summaries.gantry && summaries.skopeo) {
    const r = ratio(summaries.gantry, summaries.skopeo);
    lines.push(r === undefined ? 'gantry/skopeo: n/a (a tool has no successful run)' : `gantry/skopeo: ${r.toFixed(2)}${r < 1 ? '' : '  (gantry slower)'}`);
  }
  return lines.join('\n');
}

export function renderTargets(checks: TargetCheck[]): string {
  if (checks.length === 0) return 'targets: none apply to this selection';
  const rows = [['', 'workload', 'shape', 'target', 'measured']];
  for (const c of checks) rows.push([c.met === undefined ? 'n/a' : c.met ? 'ok' : 'MISS', c.workload, c.shape, c.target, c.measured]);
  return `targets (issue 4):\n${table(rows)}`;
}

/** Write everything measured, with summaries, ratios and target checks, as JSON. */
export async function writeJson(file: string, data: { options: BenchOptions; environment: Environment; blocks: Block[]; targets: TargetCheck[] }): Promise<void> {
  const blocks = data.blocks.map((b) => {
    const summaries = Object.fromEntries(Object.entries(b.series).map(([tool, s]) => [tool, summarize(s)]));
    const r = ratio(summaries.gantry, summaries.skopeo);
    return {
      workload: b.workload,
      title: WORKLOAD_TITLES[b.workload],
      shape: b.shape,
      ...(r !== undefined ? { ratio: r } : {}),
      tools: Object.fromEntries(Object.entries(b.series).map(([tool, s]) => [tool, { summary: summaries[tool], runs: s.runs }])),
    };
  });
  const { help: _help, ...options } = data.options;
  await writeFile(file, `${JSON.stringify({ ...data.environment, options, blocks, targets: data.targets }, null, 2)}\n`);
}
