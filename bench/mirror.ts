import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildOciLayout, type OciLayoutResult } from '../test/helpers/oci-fixtures.js';
import { startRegistry, type RunningRegistry } from '../test/helpers/registry.js';
import { makeTempDir, removeTempDir } from '../test/helpers/tmp.js';
import { describeEnvironment, findRoot, preflight } from './environment.js';
import { runBench } from './entry.js';
import { measure, type CommandLine, type Measurement } from './measure.js';
import { formatSide, markBoth, noChangeProblems, requestsSince, type MirrorRequests } from './mirror-requests.js';
import { median } from './results.js';
import { createSandbox, type Sandbox } from './tools.js';

/**
 * `gantry mirror` against `skopeo sync` (issue 5, "Benchmark"): one repository
 * of N tags (all one small image), mirrored from scratch, again with nothing
 * changed, and again after 10 tags moved to another image; the tools take
 * turns on the same two registries. Build and run:
 *   npx tsc -p bench/tsconfig.json && node bench/dist/bench/mirror.js [--quick] [--tags N] [--runs R] [--json FILE]
 * Exit 0 when every run succeeded and was verified, 1 otherwise, 2 on a bad command line.
 */

const TOOLS = ['gantry', 'skopeo'] as const;
type Tool = (typeof TOOLS)[number];
const PHASES = ['scratch', 'no-change', 'changed'] as const;
type Phase = (typeof PHASES)[number];
const CHANGED_TAGS = 10;
const REPO = 'bench/app';

const USAGE = `usage: node bench/dist/bench/mirror.js [--quick] [--tags N] [--runs R] [--timeout SECONDS] [--json FILE]
  --tags N      tags in the source repository (default 500; --quick: 50)
  --runs R      runs of each phase per tool (default 3; --quick: 1)
  --timeout S   per run (default 600)
  --json FILE   write every measurement and the medians as JSON`;

interface Options {
  tags: number;
  runs: number;
  timeoutMs: number;
  json?: string;
}

class UsageError extends Error {}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, not ${JSON.stringify(text)}`);
  return n;
}

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      tags: { type: 'string' },
      runs: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const tags = positive('--tags', values.tags, values.quick ? 50 : 500);
  if (tags < CHANGED_TAGS) throw new UsageError(`--tags must be at least ${CHANGED_TAGS} (the changed run moves ${CHANGED_TAGS} tags)`);
  return {
    tags,
    runs: positive('--runs', values.runs, values.quick ? 1 : 3),
    timeoutMs: positive('--timeout', values.timeout, 600) * 1000,
    ...(values.json !== undefined ? { json: values.json } : {}),
  };
}

const log = (line: string): void => void process.stdout.write(`${line}\n`);

interface Image {
  layout: OciLayoutResult;
  manifest: Buffer;
  mediaType: string;
}

async function buildImage(dir: string, seed: string): Promise<Image> {
  const layout = await buildOciLayout(dir, { tag: 'fixture', layers: 3, layerSize: 16 * 1024, seed, mediaTypes: 'oci', gzipLevel: 0 });
  const hex = layout.digest.slice('sha256:'.length);
  return { layout, manifest: await readFile(join(dir, 'blobs', 'sha256', hex)), mediaType: layout.root.mediaType };
}

async function putManifest(registry: RunningRegistry, repo: string, tag: string, image: Image): Promise<void> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': image.mediaType },
    body: image.manifest,
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`PUT ${repo}:${tag} answered ${res.status}`);
}

/** PUT `image`'s manifest under `tags`, a few at a time (its blobs are already in the repository). */
async function tagAll(registry: RunningRegistry, tags: string[], image: Image): Promise<void> {
  const queue = [...tags];
  const worker = async (): Promise<void> => {
    for (let tag = queue.shift(); tag !== undefined; tag = queue.shift()) await putManifest(registry, REPO, tag, image);
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

async function tagDigest(registry: RunningRegistry, repo: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  await res.arrayBuffer();
  return res.status === 200 ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}

/** Every source tag must be in `repo` on the destination with the digest the source has now. */
async function verify(destination: RunningRegistry, repo: string, expected: Map<string, string>): Promise<string | undefined> {
  const res = await fetch(`${destination.url}/v2/${repo}/tags/list?n=100000`);
  if (res.status !== 200) return `tags/list of ${repo} answered ${res.status}`;
  const body = (await res.json()) as { tags?: string[] | null };
  const tags = new Set(body.tags ?? []);
  const missing = [...expected.keys()].filter((t) => !tags.has(t));
  if (missing.length > 0) return `${missing.length} tag(s) missing in ${repo}, e.g. ${missing.slice(0, 3).join(', ')}`;
  // Every tag's digest: the changed ones are what the run is about, the others catch a wrong copy.
  for (const [tag, digest] of expected) {
    const got = await tagDigest(destination, repo, tag);
    if (got !== digest) return `${repo}:${tag} is ${got ?? 'absent'}, expected ${digest}`;
  }
  return undefined;
}

/** Where `tool`'s copy of run `run` lands on the destination (skopeo sync appends the source's last path component). */
function destinationRepo(tool: Tool, run: number): string {
  return tool === 'gantry' ? `bench/app-gantry-${run}` : `bench-skopeo-${run}/app`;
}

function command(tool: Tool, ctx: { root: string; sandbox: Sandbox; source: RunningRegistry; destination: RunningRegistry }, run: number, runDir: string): CommandLine {
  const { root, sandbox, source, destination } = ctx;
  if (tool === 'gantry') {
    return {
      file: process.execPath,
      args: [join(root, 'bin', 'gantry.js'), 'mirror', `${source.host}/${REPO}`, `${destination.host}/${destinationRepo(tool, run)}`],
      // One GANTRY_HOME per run number: the three phases of a run share it, as one user's repeated mirrors would.
      env: sandbox.gantryEnv(runDir),
    };
  }
  return {
    file: 'skopeo',
    args: [
      '--policy', sandbox.policy, '--registries.d', sandbox.registriesD, '--tmpdir', sandbox.tmp,
      'sync', '--src', 'docker', '--dest', 'docker', '--preserve-digests',
      '--src-tls-verify=false', '--dest-tls-verify=false', '--src-authfile', sandbox.authfile, '--dest-authfile', sandbox.authfile,
      `${source.host}/${REPO}`, `${destination.host}/bench-skopeo-${run}`,
    ],
    env: sandbox.skopeoEnv,
  };
}

interface MirrorRun {
  tool: Tool;
  phase: Phase;
  run: number;
  ok: boolean;
  exit: string;
  wallMs: number;
  maxRssKiB?: number;
  requests?: MirrorRequests;
  problem?: string;
}

interface Row {
  phase: Phase;
  gantryMs?: number;
  skopeoMs?: number;
  ratio?: number;
  gantryRequests?: MirrorRequests;
  skopeoRequests?: MirrorRequests;
}

function summarize(records: MirrorRun[]): Row[] {
  return PHASES.map((phase) => {
    const row: Row = { phase };
    for (const tool of TOOLS) {
      const ok = records.filter((r) => r.phase === phase && r.tool === tool && r.ok);
      if (ok.length === 0) continue;
      const ms = median(ok.map((r) => r.wallMs));
      const requests = ok[ok.length - 1]?.requests;
      if (tool === 'gantry') {
        row.gantryMs = ms;
        if (requests) row.gantryRequests = requests;
      } else {
        row.skopeoMs = ms;
        if (requests) row.skopeoRequests = requests;
      }
    }
    if (row.gantryMs !== undefined && row.skopeoMs !== undefined && row.skopeoMs > 0) row.ratio = row.gantryMs / row.skopeoMs;
    return row;
  });
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function renderTable(rows: Row[]): string {
  const s = (ms: number | undefined): string => (ms === undefined ? 'failed' : `${(ms / 1000).toFixed(2)} s`);
  const lines = [
    `${pad('phase', 11)}${pad('gantry', 11)}${pad('skopeo', 11)}${pad('ratio', 8)}${pad('gantry req', 12)}skopeo req`,
  ];
  for (const r of rows) {
    lines.push(
      `${pad(r.phase, 11)}${pad(s(r.gantryMs), 11)}${pad(s(r.skopeoMs), 11)}${pad(r.ratio === undefined ? '-' : r.ratio.toFixed(2), 8)}` +
        `${pad(String(r.gantryRequests?.total ?? '-'), 12)}${String(r.skopeoRequests?.total ?? '-')}`,
    );
  }
  return lines.join('\n');
}

const started = new Set<RunningRegistry>();

async function freshRegistry(): Promise<RunningRegistry> {
  // warn: the access log (stdout) is all the bench reads; per-request app logs only cost time.
  const r = await startRegistry({ mode: 'plain', logLevel: 'warn' });
  started.add(r);
  return r;
}

async function main(argv: string[]): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    log(USAGE);
    return 0;
  }
  const root = findRoot(dirname(fileURLToPath(import.meta.url)));
  for (const warning of await preflight(root, [...TOOLS])) process.stderr.write(`warning: ${warning}\n`);
  const environment = await describeEnvironment(root, [...TOOLS]);
  const { host } = environment;
  log(`gantry mirror bench: ${Object.entries(environment.versions).map(([k, v]) => (v.startsWith(k) ? v : `${k} ${v}`)).join('; ')}`);
  log(`machine: ${host.cpus} × ${host.cpuModel}, ${host.memoryMiB} MiB, load average ${host.loadAverage.toFixed(2)}`);
  log(`${options.tags} tags, ${options.runs} run(s) per phase and tool, alternating\n`);

  const scratch = await makeTempDir('bench-mirror');
  const records: MirrorRun[] = [];
  try {
    const source = await freshRegistry();
    const destination = await freshRegistry();
    const sandbox = await createSandbox(join(scratch, 'sandbox'));
    const ctx = { root, sandbox, source, destination };

    const t0 = Date.now();
    const imageA = await buildImage(join(scratch, 'image-a'), 'mirror-a');
    const imageB = await buildImage(join(scratch, 'image-b'), 'mirror-b');
    const tags = Array.from({ length: options.tags }, (_, i) => `t${i}`);
    const changed = tags.slice(0, CHANGED_TAGS);
    // Push B first, then A over the same tag: both images' blobs are then in the
    // source repository, and moving a tag later is a manifest PUT.
    for (const image of [imageB, imageA]) {
      const push = measure(
        { file: process.execPath, args: [join(root, 'bin', 'gantry.js'), 'copy', `oci:${image.layout.dir}:fixture`, `${source.host}/${REPO}:t0`], env: sandbox.gantryEnv(join(scratch, 'seed')) },
        { dir: await mkdirp(join(scratch, 'seed', image === imageA ? 'a' : 'b')), timeoutMs: options.timeoutMs },
      );
      const m = await push;
      if (!m.ok) throw new Error(`seeding the source failed (${m.exit}):\n${m.outputTail}`);
    }
    await tagAll(source, tags.slice(1), imageA);
    const expected = new Map(tags.map((t) => [t, imageA.layout.digest]));
    log(`source ${source.url}/${REPO}: ${options.tags} tags seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s; destination ${destination.url}\n`);

    let current: Image = imageA;
    for (let run = 1; run <= options.runs; run++) {
      // Take turns, and swap who goes first each run so neither always runs on a warmer machine.
      const order: Tool[] = run % 2 === 1 ? ['gantry', 'skopeo'] : ['skopeo', 'gantry'];
      for (const phase of PHASES) {
        if (phase === 'changed') {
          current = current === imageA ? imageB : imageA;
          await tagAll(source, changed, current);
          for (const t of changed) expected.set(t, current.layout.digest);
        }
        for (const tool of order) {
          const runDir = await mkdirp(join(scratch, 'runs', `${tool}-${run}`));
          const outDir = await mkdirp(join(runDir, phase));
          const marks = await markBoth(source, destination);
          const m: Measurement = await measure(command(tool, ctx, run, runDir), { dir: outDir, timeoutMs: options.timeoutMs });
          const requests = await requestsSince(source, destination, marks);
          const record: MirrorRun = { tool, phase, run, ok: m.ok, exit: m.exit, wallMs: m.wallMs, requests, ...(m.maxRssKiB !== undefined ? { maxRssKiB: m.maxRssKiB } : {}) };
          if (!m.ok) record.problem = m.outputTail;
          else {
            const wrong = await verify(destination, destinationRepo(tool, run), expected);
            if (wrong !== undefined) {
              record.ok = false;
              record.problem = `wrong result: ${wrong}`;
            }
          }
          records.push(record);
          log(
            `  run ${run} ${pad(phase, 10)} ${pad(tool, 7)} ${record.ok ? `${(m.wallMs / 1000).toFixed(2)} s` : `FAILED (${m.exit})`}` +
              `  src: ${formatSide(requests.source)}; dst: ${formatSide(requests.destination)}`,
          );
          if (record.problem !== undefined) log(record.problem.split('\n').map((l) => `      ${l}`).join('\n'));
        }
      }
    }

    const rows = summarize(records);
    log(`\n== medians over ${options.runs} run(s), ${options.tags} tags (ratio = gantry / skopeo, lower is better; req = requests to both registries)\n`);
    log(renderTable(rows));
    const targets: { target: string; met: boolean; detail: string }[] = [];
    for (const r of rows) {
      targets.push({ target: `gantry faster than skopeo (${r.phase})`, met: r.ratio !== undefined && r.ratio < 1, detail: r.ratio === undefined ? 'no ratio' : `ratio ${r.ratio.toFixed(2)}` });
    }
    const noChange = records.flatMap((r) => (r.tool === 'gantry' && r.phase === 'no-change' && r.ok && r.requests ? [{ run: r.run, requests: r.requests }] : []));
    const problems = noChange.flatMap((r) => noChangeProblems(r.requests, options.tags).map((p) => `run ${r.run}: ${p}`));
    targets.push({
      target: 'no-change: ≤ 1 manifest HEAD per tag per side, plus pings/tag lists/tokens',
      met: noChange.length > 0 && problems.length === 0,
      detail: problems.length > 0 ? problems.join('; ') : noChange.map((r) => `run ${r.run}: src ${formatSide(r.requests.source)}; dst ${formatSide(r.requests.destination)}`).join(' | '),
    });
    log('\n== targets (issue 5)');
    for (const t of targets) log(`  ${t.met ? 'met   ' : 'MISSED'} ${t.target}: ${t.detail}`);
    if (options.json !== undefined) {
      const file = resolve(options.json);
      await writeFile(file, `${JSON.stringify({ options, environment, records, medians: rows, targets }, null, 2)}\n`);
      log(`\nresults written to ${file}`);
    }
    const failures = records.filter((r) => !r.ok).length;
    if (failures > 0) process.stderr.write(`\n${failures} run(s) failed; see the FAILED lines above\n`);
    return failures > 0 ? 1 : 0;
  } finally {
    for (const r of [...started]) {
      started.delete(r);
      await r.stop();
    }
    await removeTempDir(scratch);
  }
}

async function mkdirp(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}

runBench(main, started);
