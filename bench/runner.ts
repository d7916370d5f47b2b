import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { measure, type CommandLine } from './measure.js';
import type { Tool, Workload } from './options.js';
import { activitySince, formatActivity, markLogs } from './registry-activity.js';
import type { Block } from './report.js';
import type { RunRecord, Series } from './results.js';
import { verifyImage } from './verify.js';
import { prepare, type BenchContext, type Fixture } from './workloads.js';

/**
 * Runs one workload on one shape: N rounds, and in each round every tool once,
 * in the given order (g, s, g, s, …), so slow drift of the machine (page
 * cache, thermal, other load) hits both tools alike.
 */

export interface SeriesOptions {
  fixture: Fixture;
  workload: Workload;
  tools: Tool[];
  runs: number;
  /** A dir for the runs' scratch (each run gets a subdir, removed after it). */
  dir: string;
  log: (line: string) => void;
}

function show(command: CommandLine): string {
  return [command.file, ...command.args].map((a) => (/^[\w./:=@-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `      | ${l}`)
    .join('\n');
}

async function runOnce(ctx: BenchContext, options: SeriesOptions, tool: Tool, run: number): Promise<RunRecord> {
  const runDir = join(options.dir, `${options.fixture.shape.id}-${options.workload}-${tool}-${run}`);
  await mkdir(runDir, { recursive: true });
  try {
    const prepared = await prepare(ctx, { fixture: options.fixture, workload: options.workload, tool, run, runDir });
    try {
      const command = ctx.tools.copy(tool, prepared.src, prepared.dst, runDir);
      // The previous run's gigabytes may still be on their way to disk: let that write-back land
      // now, not on whichever tool runs next (it made single pull runs of either tool 2× slower).
      await promisify(execFile)('sync');
      const marks = await markLogs(prepared.registries);
      const m = await measure(command, { dir: runDir, timeoutMs: ctx.timeoutMs });
      const activity = await activitySince(marks);
      const problem = m.ok
        ? await verifyImage(prepared.dst, options.fixture.image)
        : `${show(command)} failed (${m.exit}):\n${m.outputTail}`;
      const { outputTail: _tail, ...measured } = m;
      const record: RunRecord = { run, ...measured, ok: m.ok && problem === undefined, activity, ...(problem !== undefined ? { problem } : {}) };
      const head = `    ${tool.padEnd(6)} run ${run}/${options.runs}`;
      if (record.ok) {
        const rss = m.maxRssKiB === undefined ? '?' : (m.maxRssKiB / 1024).toFixed(0);
        options.log(`${head}  ${(m.wallMs / 1000).toFixed(3)} s  ${rss} MiB  ${formatActivity(activity)}`);
      } else {
        options.log(`${head}  FAILED: ${m.ok ? 'the result is wrong' : m.exit}\n${indent(problem ?? '')}`);
      }
      return record;
    } finally {
      await prepared.dispose();
    }
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}

/**
 * Measure every run; a tool that fails once is not run again on this workload
 * (failures are loud and deterministic, and a timeout should not repeat N times).
 */
export async function runSeries(ctx: BenchContext, options: SeriesOptions): Promise<Block> {
  const series: Partial<Record<Tool, Series>> = {};
  for (const tool of options.tools) series[tool] = { shape: options.fixture.shape, workload: options.workload, tool, runs: [] };
  const failed = new Set<Tool>();
  for (let run = 1; run <= options.runs; run++) {
    for (const tool of options.tools) {
      if (failed.has(tool)) continue;
      const record = await runOnce(ctx, options, tool, run);
      series[tool]?.runs.push(record);
      if (!record.ok) {
        failed.add(tool);
        if (run < options.runs) options.log(`    (no more ${tool} runs of this workload)`);
      }
    }
  }
  return { shape: options.fixture.shape, workload: options.workload, series };
}
