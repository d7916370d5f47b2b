import type { Shape, Workload } from './options.js';
import { ratio, type Summary } from './results.js';

/**
 * The performance targets of issue 4, checked against one bench run:
 * - gantry faster than skopeo on every workload (ratio < 1, same run);
 * - a re-push whose blobs all exist: under 0.3 s for 8 layers, and at least
 *   5× faster than skopeo for 200 layers;
 * - memory mode: gantry's peak RSS under 150 MiB (with a 1 GiB layer).
 * The absolute and 5× targets are stated for those layer counts, so they are
 * checked only for shapes with exactly that many layers.
 */

export interface TargetCheck {
  shape: string;
  workload: Workload;
  target: string;
  /** undefined when the run cannot tell (a tool failed or did not run). */
  met?: boolean;
  measured: string;
}

export const REPUSH_8_LAYERS_MS = 300;
export const REPUSH_200_LAYERS_SPEEDUP = 5;
export const MEMORY_TARGET_MIB = 150;

function fmtRatio(r: number | undefined): string {
  return r === undefined ? 'n/a' : r.toFixed(2);
}

export function checkTargets(options: {
  shape: Shape;
  workload: Workload;
  gantry?: Summary;
  skopeo?: Summary;
  memoryMode: boolean;
}): TargetCheck[] {
  const { shape, workload, gantry, skopeo } = options;
  const base = { shape: shape.label, workload };
  const checks: TargetCheck[] = [];
  const r = ratio(gantry, skopeo);
  if (gantry && skopeo) {
    checks.push({ ...base, target: 'gantry faster than skopeo (ratio < 1)', ...(r !== undefined ? { met: r < 1 } : {}), measured: `ratio ${fmtRatio(r)}` });
  }
  if (workload === 'repush' && shape.layers === 8 && gantry) {
    const ms = gantry.medianMs;
    checks.push({
      ...base,
      target: `gantry re-push under ${REPUSH_8_LAYERS_MS / 1000} s`,
      ...(ms !== undefined ? { met: ms < REPUSH_8_LAYERS_MS } : {}),
      measured: ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(3)} s`,
    });
  }
  if (workload === 'repush' && shape.layers === 200 && gantry && skopeo) {
    checks.push({
      ...base,
      target: `gantry re-push at least ${REPUSH_200_LAYERS_SPEEDUP}× faster than skopeo (ratio ≤ ${(1 / REPUSH_200_LAYERS_SPEEDUP).toFixed(2)})`,
      ...(r !== undefined ? { met: r <= 1 / REPUSH_200_LAYERS_SPEEDUP } : {}),
      measured: `ratio ${fmtRatio(r)}`,
    });
  }
  if (options.memoryMode && gantry) {
    const rss = gantry.medianRssMiB;
    checks.push({
      ...base,
      target: `gantry peak RSS under ${MEMORY_TARGET_MIB} MiB`,
      ...(rss !== undefined ? { met: rss < MEMORY_TARGET_MIB } : {}),
      measured: rss === undefined ? 'n/a' : `${rss.toFixed(0)} MiB`,
    });
  }
  return checks;
}
