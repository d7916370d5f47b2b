import { parseArgs } from 'node:util';

/** The command-line options of `bench/transfer.ts`, parsed and checked. */

export const TOOLS = ['gantry', 'skopeo', 'node-floor'] as const;
export type Tool = (typeof TOOLS)[number];
/** What runs unless --tools says otherwise. */
const DEFAULT_TOOLS: Tool[] = ['gantry', 'skopeo'];
/** The workloads `node-floor` (bench/floor/floor-copy.cjs) does. */
export const FLOOR_WORKLOADS: readonly Workload[] = ['repush', 'copy-same', 'copy-same-cold'];

export const WORKLOADS = ['push', 'copy-same', 'copy-same-cold', 'copy-cross', 'pull', 'repush'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** An image shape: `layers` layers of `layerSize` incompressible bytes each. */
export interface Shape {
  /** Lower-case, usable as a repository path component: `8x64mib`. */
  id: string;
  /** For tables: `8 × 64 MiB`. */
  label: string;
  layers: number;
  layerSize: number;
}

export interface BenchOptions {
  tools: Tool[];
  workloads: Workload[];
  shapes: Shape[];
  runs: number;
  /** Write the results here as JSON. */
  json?: string;
  /** The memory mode: one big layer pushed and pulled, peak RSS against the 150 MiB target. */
  memory: boolean;
  /** Kill a run (its whole process group) after this long. */
  timeoutMs: number;
  help: boolean;
}

/** A bad command line; the entry point prints it with the usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage: node bench/dist/bench/transfer.js [options]

Runs gantry and skopeo alternately on the same workloads against real
registries on loopback and prints, per workload, the median wall time,
min/max, median peak RSS and the gantry/skopeo ratio (lower is better).

options:
  --tools LIST       tools to run, of: ${TOOLS.join(', ')} (default: gantry,skopeo).
                     node-floor is the least a node 20 program does for repush and
                     copy-same (bench/floor/floor-copy.cjs): what node itself costs
  --workloads LIST   of: ${WORKLOADS.join(', ')} (default: all)
  --sizes LIST       image shapes as LAYERSxSIZE (default: 8x64MiB,200x64KiB)
  --runs N           runs per tool and workload (default 5; 1 with --quick or --memory)
  --quick            a smoke run: --sizes 2x8MiB,20x64KiB --runs 1
  --memory           peak-RSS mode: one 1 GiB layer pushed layout→registry and
                     pulled back (--sizes picks another shape); target < 150 MiB
  --json FILE        also write the results as JSON
  --timeout SECONDS  per run (default 600)
  -h, --help         this text`;

const UNITS: Record<string, number> = { b: 1, kib: 1024, k: 1024, mib: 1024 ** 2, m: 1024 ** 2, gib: 1024 ** 3, g: 1024 ** 3 };

function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor} ${unit}`;
  }
  return `${bytes} B`;
}

/** `8x64MiB` → a Shape. Units are binary (KiB/MiB/GiB, or K/M/G); a bare number is bytes. */
export function parseShape(text: string): Shape {
  const m = /^(\d+)x(\d+)([a-z]*)$/i.exec(text.trim());
  const factor = m ? UNITS[(m[3] || 'b').toLowerCase()] : undefined;
  if (!m || factor === undefined) throw new UsageError(`bad size ${JSON.stringify(text)}: expected LAYERSxSIZE such as 8x64MiB`);
  const layers = Number(m[1]);
  const layerSize = Number(m[2]) * factor;
  if (layers < 1 || layers > 10_000) throw new UsageError(`bad size ${JSON.stringify(text)}: 1 to 10000 layers`);
  if (layerSize < 1 || layerSize > 16 * 1024 ** 3) throw new UsageError(`bad size ${JSON.stringify(text)}: 1 B to 16 GiB per layer`);
  const label = `${layers} × ${formatSize(layerSize)}`;
  return { id: `${layers}x${formatSize(layerSize).replace(' ', '').toLowerCase()}`, label, layers, layerSize };
}

function parseList<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const out: T[] = [];
  for (const item of items) {
    const found = allowed.find((a) => a === item);
    if (!found) throw new UsageError(`unknown ${what} ${JSON.stringify(item)}; expected some of: ${allowed.join(', ')}`);
    if (!out.includes(found)) out.push(found);
  }
  if (out.length === 0) throw new UsageError(`--${what}s needs at least one of: ${allowed.join(', ')}`);
  return out;
}

function parsePositive(text: string, what: string, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${what} must be an integer from 1 to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

/** Parse the bench's arguments; throws UsageError on anything it does not understand. */
export function parseOptions(argv: string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        tools: { type: 'string' },
        workloads: { type: 'string' },
        sizes: { type: 'string' },
        runs: { type: 'string' },
        quick: { type: 'boolean', default: false },
        memory: { type: 'boolean', default: false },
        json: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    // parseArgs throws TypeError with ERR_PARSE_ARGS_* codes for unknown or malformed options.
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) throw new UsageError(err.message);
    throw err;
  }
  const memory = values.memory;
  const quick = values.quick;
  const defaultSizes = memory ? (quick ? '1x128MiB' : '1x1GiB') : quick ? '2x8MiB,20x64KiB' : '8x64MiB,200x64KiB';
  const shapes = (values.sizes ?? defaultSizes).split(',').filter((s) => s.trim().length > 0).map(parseShape);
  if (shapes.length === 0) throw new UsageError('--sizes needs at least one LAYERSxSIZE');
  if (new Set(shapes.map((s) => s.id)).size !== shapes.length) throw new UsageError('--sizes lists the same shape twice');
  const workloads: Workload[] = memory ? ['push', 'pull'] : [...WORKLOADS];
  if (memory && values.workloads !== undefined) throw new UsageError('--memory runs push and pull; it takes no --workloads');
  const tools = values.tools === undefined ? [...DEFAULT_TOOLS] : parseList(values.tools, TOOLS, 'tool');
  const chosen = values.workloads === undefined ? workloads : parseList(values.workloads, WORKLOADS, 'workload');
  if (tools.includes('node-floor') && (memory || chosen.some((w) => !FLOOR_WORKLOADS.includes(w)))) {
    throw new UsageError(`node-floor does only ${FLOOR_WORKLOADS.join(', ')}: name them with --workloads`);
  }
  return {
    tools,
    workloads: chosen,
    shapes,
    runs: values.runs === undefined ? (quick || memory ? 1 : 5) : parsePositive(values.runs, '--runs', 100),
    ...(values.json !== undefined ? { json: values.json } : {}),
    memory,
    timeoutMs: values.timeout === undefined ? 600_000 : parsePositive(values.timeout, '--timeout', 24 * 3600) * 1000,
    help: values.help,
  };
}
