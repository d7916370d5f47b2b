import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciLayoutResult } from '../test/helpers/oci-fixtures.js';
import type { RunningRegistry } from '../test/helpers/registry.js';
import { measure } from './measure.js';
import type { Shape, Tool, Workload } from './options.js';
import type { Location, Tools } from './tools.js';

/**
 * Where each workload copies from and to, so that every run of either tool
 * does the same work from the same starting state:
 * - push and copy-cross write to a registry started for that run alone, so no
 *   blob is already there and no earlier run (or skopeo's blob-info cache,
 *   which outlives runs) can turn an upload into a mount;
 * - copy-same writes to a new repository of the source registry per run
 *   (mounting from the source repository is allowed: that is the workload);
 * - copy-same-cold is copy-same with skopeo's blob-info cache emptied before
 *   each run, as on a fresh CI runner: skopeo mounts within a registry only
 *   where that cache remembers the blob, gantry mounts every time;
 * - pull writes to a new layout directory per run;
 * - repush pushes the fixture again to a tag that already holds it.
 */

export interface BenchContext {
  tools: Tools;
  timeoutMs: number;
  /** The long-lived registry holding the seeded sources. */
  source: RunningRegistry;
  /** A fresh, empty plain-HTTP registry; the caller stops it. */
  freshRegistry(): Promise<RunningRegistry>;
}

export interface Fixture {
  shape: Shape;
  image: OciLayoutResult;
  /** The fixture layout itself, as a location. */
  layout: Location;
}

export interface Prepared {
  src: Location;
  dst: Location;
  /** Registries the run talks to (for their access logs). */
  registries: RunningRegistry[];
  /** Stop what `prepare` started for this run alone. */
  dispose(): Promise<void>;
}

const TAG = 't';

function sourceRepo(shape: Shape): string {
  return `bench/${shape.id}`;
}

function repushRepo(shape: Shape): string {
  return `bench/${shape.id}-repush`;
}

function onRegistry(registry: RunningRegistry, repository: string, tag = TAG): Location {
  return { kind: 'registry', host: registry.host, repository, tag };
}

/**
 * Put the fixture where the workloads read it (the source repository, and the
 * re-push tag), with skopeo: the reference tool, so gantry's own state plays
 * no part. Throws with skopeo's output when that fails.
 */
export async function seed(ctx: BenchContext, fixture: Fixture, workloads: Workload[], dir: string): Promise<void> {
  const targets: string[] = [];
  if (workloads.some((w) => w === 'copy-same' || w === 'copy-same-cold' || w === 'copy-cross' || w === 'pull')) targets.push(sourceRepo(fixture.shape));
  if (workloads.includes('repush')) targets.push(repushRepo(fixture.shape));
  for (const repository of targets) {
    const runDir = join(dir, `seed-${repository.replace(/\//g, '_')}`);
    await mkdir(runDir, { recursive: true });
    const command = ctx.tools.copy('skopeo', fixture.layout, onRegistry(ctx.source, repository), runDir);
    const m = await measure(command, { dir: runDir, timeoutMs: ctx.timeoutMs });
    if (!m.ok) throw new Error(`seeding ${repository} with skopeo failed (${m.exit}):\n${m.outputTail}`);
  }
}

/** Source and a fresh destination for run `run` of `tool`; `runDir` is the run's own empty dir. */
export async function prepare(
  ctx: BenchContext,
  options: { fixture: Fixture; workload: Workload; tool: Tool; run: number; runDir: string },
): Promise<Prepared> {
  const { fixture, workload, tool, run, runDir } = options;
  const { shape } = fixture;
  const nothing = async (): Promise<void> => undefined;
  switch (workload) {
    case 'push': {
      const dst = await ctx.freshRegistry();
      return { src: fixture.layout, dst: onRegistry(dst, sourceRepo(shape), `run${run}`), registries: [dst], dispose: () => dst.stop() };
    }
    case 'copy-same':
      return {
        src: onRegistry(ctx.source, sourceRepo(shape)),
        dst: onRegistry(ctx.source, `${sourceRepo(shape)}-copy-${tool}-${run}`),
        registries: [ctx.source],
        dispose: nothing,
      };
    case 'copy-same-cold':
      await ctx.tools.forgetSkopeoCache();
      return {
        src: onRegistry(ctx.source, sourceRepo(shape)),
        dst: onRegistry(ctx.source, `${sourceRepo(shape)}-cold-${tool}-${run}`),
        registries: [ctx.source],
        dispose: nothing,
      };
    case 'copy-cross': {
      const dst = await ctx.freshRegistry();
      return { src: onRegistry(ctx.source, sourceRepo(shape)), dst: onRegistry(dst, sourceRepo(shape)), registries: [ctx.source, dst], dispose: () => dst.stop() };
    }
    case 'pull':
      return { src: onRegistry(ctx.source, sourceRepo(shape)), dst: { kind: 'oci', dir: join(runDir, 'pulled'), tag: TAG }, registries: [ctx.source], dispose: nothing };
    case 'repush':
      return { src: fixture.layout, dst: onRegistry(ctx.source, repushRepo(shape)), registries: [ctx.source], dispose: nothing };
  }
}
