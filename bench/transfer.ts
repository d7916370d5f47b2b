import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOciLayout } from '../test/helpers/oci-fixtures.js';
import { startRegistry, type RunningRegistry } from '../test/helpers/registry.js';
import { makeTempDir, removeTempDir } from '../test/helpers/tmp.js';
import { describeEnvironment, findRoot, preflight } from './environment.js';
import { runBench } from './entry.js';
import { parseOptions, USAGE, UsageError, type BenchOptions, type Shape } from './options.js';
import { renderBlock, renderTargets, writeJson, type Block } from './report.js';
import { summarize } from './results.js';
import { runSeries } from './runner.js';
import { checkTargets, type TargetCheck } from './targets.js';
import { createTools } from './tools.js';
import { seed, type BenchContext, type Fixture } from './workloads.js';

/**
 * gantry against skopeo, side by side, on real registries on loopback (issue
 * 4, "Performance"). Build and run:
 *   npx tsc -p bench/tsconfig.json && node bench/dist/bench/transfer.js [--quick] [--json FILE]
 * Exit 0 when every run succeeded (targets are reported, not enforced), 1 when
 * a run failed or the bench could not run, 2 on a bad command line, 130 on Ctrl-C.
 */

const log = (line: string): void => void process.stdout.write(`${line}\n`);

async function buildFixture(dir: string, shape: Shape): Promise<Fixture> {
  const started = Date.now();
  const layoutDir = join(dir, 'layout');
  const image = await buildOciLayout(layoutDir, {
    tag: 'fixture',
    layers: shape.layers,
    layerSize: shape.layerSize,
    seed: `bench-${shape.id}`,
    mediaTypes: 'oci',
    // Stored (level 0) gzip: the content is incompressible anyway, and level 1 makes fixtures 3-4× slower to build.
    gzipLevel: 0,
  });
  log(`  fixture ${shape.label}: ${(image.totalSize / 1024 ** 2).toFixed(1)} MiB in ${image.blobs.length} blobs, built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { shape, image, layout: { kind: 'oci', dir: layoutDir, tag: 'fixture' } };
}

/** Registries started and not yet stopped, for the Ctrl-C path. */
const started = new Set<RunningRegistry>();

async function bench(options: BenchOptions, root: string, scratch: string): Promise<{ blocks: Block[]; targets: TargetCheck[]; failures: number }> {
  const freshRegistry = async (): Promise<RunningRegistry> => {
    // warn: the access log (stdout) is all the bench reads; per-request app logs only cost time.
    const r = await startRegistry({ mode: 'plain', logLevel: 'warn' });
    started.add(r);
    return {
      ...r,
      stop: async (o) => {
        started.delete(r);
        await r.stop(o);
      },
    };
  };
  const blocks: Block[] = [];
  const targets: TargetCheck[] = [];
  let failures = 0;
  try {
    const source = await freshRegistry();
    const ctx: BenchContext = { tools: await createTools({ root, dir: join(scratch, 'tools') }), timeoutMs: options.timeoutMs, source, freshRegistry };
    log(`source registry at ${source.url}; ${options.runs} run(s) per tool, alternating ${options.tools.join(', ')}\n`);
    for (const shape of options.shapes) {
      const shapeDir = join(scratch, shape.id);
      await mkdir(shapeDir, { recursive: true });
      log(`== ${shape.label}`);
      const fixture = await buildFixture(shapeDir, shape);
      await seed(ctx, fixture, options.workloads, shapeDir);
      for (const workload of options.workloads) {
        log(`  ${workload}`);
        const block = await runSeries(ctx, { fixture, workload, tools: options.tools, runs: options.runs, dir: shapeDir, log });
        blocks.push(block);
        const gantry = block.series.gantry && summarize(block.series.gantry);
        const skopeo = block.series.skopeo && summarize(block.series.skopeo);
        failures += (gantry?.failedRuns ?? 0) + (skopeo?.failedRuns ?? 0);
        targets.push(...checkTargets({ shape, workload, memoryMode: options.memory, gantry, skopeo }));
      }
      await rm(shapeDir, { recursive: true, force: true });
      log('');
    }
  } finally {
    for (const r of [...started]) await r.stop();
  }
  return { blocks, targets, failures };
}

async function main(argv: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    log(USAGE);
    return 0;
  }
  const root = findRoot(dirname(fileURLToPath(import.meta.url)));
  for (const warning of await preflight(root, options.tools)) process.stderr.write(`warning: ${warning}\n`);
  const environment = await describeEnvironment(root, options.tools);
  const versions = Object.entries(environment.versions).map(([k, v]) => (v.startsWith(k) ? v : `${k} ${v}`));
  const { host } = environment;
  log(`gantry bench${options.memory ? ' (memory)' : ''}: ${versions.join('; ')}`);
  log(`machine: ${host.cpus} × ${host.cpuModel}, ${host.memoryMiB} MiB, Linux ${host.kernel}, load average ${host.loadAverage.toFixed(2)}\n`);
  if (host.loadAverage > host.cpus / 2) {
    process.stderr.write(
      `warning: load average ${host.loadAverage.toFixed(2)} on ${host.cpus} CPUs: other work is running; absolute times will be noisy ` +
        '(the ratios, measured alternately in the same run, suffer less)\n',
    );
  }

  const scratch = await makeTempDir('bench');
  try {
    const { blocks, targets, failures } = await bench(options, root, scratch);
    log('== results: medians over the successful runs of wall time, CPU (user + system) and peak RSS (GNU time\'s maximum resident set size)\n');
    for (const block of blocks) log(`${renderBlock(block, options.tools)}\n`);
    log(renderTargets(targets));
    if (options.json !== undefined) {
      const file = resolve(options.json);
      await writeJson(file, { options, environment, blocks, targets });
      log(`\nresults written to ${file}`);
    }
    if (failures > 0) process.stderr.write(`\n${failures} run(s) failed; see the FAILED lines above\n`);
    return failures > 0 ? 1 : 0;
  } finally {
    await removeTempDir(scratch);
  }
}

runBench(main, started);
