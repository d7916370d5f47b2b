import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { checkGnuTime } from './measure.js';
import type { Tool } from './options.js';
import type { Environment } from './report.js';

/** Finding the repository, checking what the bench needs before it starts, and recording the machine. */

const run = promisify(execFile);

/** The repository root: the nearest ancestor of `from` holding `bin/gantry.js` and `package.json`. */
export function findRoot(from: string): string {
  let dir = from;
  for (let depth = 0; depth < 64; depth++) {
    if (existsSync(join(dir, 'bin', 'gantry.js')) && existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`cannot find the gantry repository above ${from}`);
}

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

async function version(file: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await run(file, args, { timeout: 15_000 });
  return (stdout.trim() || stderr.trim()).split('\n')[0] ?? '';
}

/**
 * Throws, naming the fix, when something the bench runs is missing: GNU time,
 * skopeo, docker-registry, or (when gantry is benchmarked) the build in dist/.
 * Returns warnings that do not stop the run (a build older than the sources).
 */
export async function preflight(root: string, tools: Tool[]): Promise<string[]> {
  await checkGnuTime();
  const missing: string[] = [];
  for (const [bin, pkg] of [
    ['skopeo', 'skopeo'],
    ['docker-registry', 'docker-registry'],
  ] as const) {
    await version(bin, ['--version']).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      missing.push(pkg);
    });
  }
  if (missing.length > 0) throw new Error(`missing: ${missing.join(', ')}; install with: apt-get install -y ${missing.join(' ')}`);
  const warnings: string[] = [];
  if (tools.includes('gantry')) {
    const main = join(root, 'dist', 'cli', 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: build gantry first (npm run build)`);
    if (newest(join(root, 'src')) > statSync(main).mtimeMs) warnings.push('dist/ is older than src/: this measures the previous build (npm run build)');
  }
  return warnings;
}

/** The machine and the tools' versions, recorded with the results. */
export async function describeEnvironment(root: string, tools: Tool[]): Promise<Environment> {
  const versions: Record<string, string> = {
    node: process.version,
    skopeo: await version('skopeo', ['--version']),
    'docker-registry': await version('docker-registry', ['--version']),
  };
  if (tools.includes('gantry')) {
    versions.gantry = await version(process.execPath, [join(root, 'bin', 'gantry.js'), '--version']).catch((err: Error) => `unknown (${err.message.split('\n')[0] ?? ''})`);
  }
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    host: { cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', memoryMiB: Math.round(totalmem() / 1024 ** 2), kernel: release(), loadAverage: loadavg()[0] ?? 0 },
    versions,
  };
}
