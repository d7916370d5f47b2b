import { setMaxListeners } from 'node:events';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GantryError } from '../../errors/index.js';
import { throwIfAborted } from '../../internal/abort.js';
import type { CliIo } from '../io.js';
import type { Output } from '../output.js';
import { buildDemoImage } from './demo-image.js';
import { startDemoRegistry, type DemoRegistry } from './demo-registry.js';
import { commandLine, demoSteps } from './demo-steps.js';

/**
 * Runs one gantry command line in-process, as `main` would, with the given
 * IO; rejects with the command's error, unreported (the caller reports it).
 */
export type RunCommand = (argv: string[], io: CliIo, signal: AbortSignal) => Promise<void>;

export interface DemoOptions {
  io: CliIo;
  out: Output;
  signal: AbortSignal;
  run: RunCommand;
  /** Global options to pass on to every command (`--debug`, `--no-color`), shown in its command line. */
  globalArgs?: string[];
}

/** What a finished demo did. */
export interface DemoResult {
  registry: string;
  steps: number;
  /** The temporary directory it worked in, removed by now. */
  workDir: string;
}

// Every request of the demo goes to a registry on 127.0.0.1: a proxy could only get in the way.
const PROXY_VARIABLES = new Set(['http_proxy', 'https_proxy', 'all_proxy', 'no_proxy']);
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * The offline demo: start a throwaway registry on 127.0.0.1, build a small
 * two-platform image as an OCI layout, and run gantry's own commands against
 * them (push, tags, copy, pull, images, tag, rmi), each shown first as
 * the command line a user would type, with its real output.
 *
 * Everything lives in one temporary directory (under `$TMPDIR`): the
 * registry's storage, the image, and the commands' GANTRY_HOME,
 * DOCKER_CONFIG and GANTRY_CONFIG, so the user's own store, logins and
 * settings are never read or written. Guarantees: the registry is stopped
 * and the directory removed when the demo ends, fails, or is interrupted
 * (Ctrl-C, SIGTERM, SIGHUP, or `signal`); at process exit, whatever is left
 * is killed and removed synchronously.
 *
 * @throws the failing command's error as it is (so its exit code is the
 *   demo's); GantryError NOT_FOUND when docker-registry is not installed
 *   (the hint is the install command); INTERRUPTED when stopped.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { io, out } = options;
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  // The commands run on this signal, as they would on main's: with blobs in flight it legitimately has
  // dozens of listeners, and node's leak warning (at 10) would land in the middle of the output.
  setMaxListeners(1024, signal);
  const workDir = await mkdtemp(join(resolve(io.env.TMPDIR || tmpdir()), 'gantry-demo-'));
  // Ctrl-C, a closed terminal or a kill stop the demo through its cleanup. Listening also keeps a
  // second Ctrl-C (main listens once) from killing the process before the registry is stopped.
  const onSignal = (): void => stop.abort(new GantryError('INTERRUPTED', 'interrupted'));
  for (const name of STOP_SIGNALS) process.on(name, onSignal);
  let registry: DemoRegistry | undefined;
  // The last resort when the process exits without the cleanup below having run.
  const onExit = (): void => {
    registry?.killNow();
    rmSync(workDir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const say = (text = ''): void => void io.stdout.write(`${text}\n`);

  let result: DemoResult | undefined;
  let failure: unknown;
  let current: string | undefined;
  try {
    say(out.c.bold("gantry demo: a throwaway registry, a small image, and gantry's transfer commands at work."));
    registry = await startDemoRegistry({ dir: join(workDir, 'registry'), env: io.env, signal });
    const image = await buildDemoImage(join(workDir, 'hello'), { signal });
    const fields: Array<[string, string]> = [
      ['registry', `${registry.host}${registry.version ? ` (${registry.version})` : ''}, plain HTTP, storage in ${join(workDir, 'registry')}`],
      ['image', `oci:${image.dir}:${image.tag}, ${image.platforms.join(' and ')}, ${image.digest}`],
      ['gantry', `GANTRY_HOME, DOCKER_CONFIG and GANTRY_CONFIG point into ${workDir}: your own store and logins are not touched`],
    ];
    for (const [key, value] of fields) say(`  ${out.c.dim(key.padEnd(8))} ${value}`);

    const steps = demoSteps({ registry: registry.host, layout: image.dir, tag: image.tag, archive: join(workDir, 'hello-amd64.tar') });
    const stepIo: CliIo = { ...io, env: demoEnv(io.env, workDir) };
    for (const [i, step] of steps.entries()) {
      throwIfAborted(signal);
      current = `${i + 1}/${steps.length}`;
      const argv = [...(options.globalArgs ?? []), ...step.argv];
      say();
      say(out.c.dim(`# ${i + 1}/${steps.length} ${step.title}`));
      say(out.c.bold(`$ ${commandLine(argv)}`));
      await options.run(argv, stepIo, signal);
    }
    result = { registry: registry.host, steps: steps.length, workDir };
  } catch (err) {
    failure = err;
    if (registry) {
      const why = signal.aborted ? 'interrupted' : current ? `step ${current} failed` : 'the image could not be built';
      io.stderr.write(`demo: ${why}; stopping the registry and removing ${workDir}\n`);
    }
  }

  const problems = await cleanUp(registry, workDir);
  process.removeListener('exit', onExit);
  for (const name of STOP_SIGNALS) process.removeListener(name, onSignal);
  if (result === undefined) {
    for (const problem of problems) io.stderr.write(`warning: demo cleanup: ${problem instanceof Error ? problem.message : String(problem)}\n`);
    throw failure;
  }
  if (problems.length > 0) throw problems[0];
  say();
  say(`All ${result.steps} commands worked. The registry is stopped and ${workDir} is removed.`);
  return result;
}

/** Stop the registry, then remove the directory (also when the stop failed); the failures, if any. */
async function cleanUp(registry: DemoRegistry | undefined, workDir: string): Promise<unknown[]> {
  const problems: unknown[] = [];
  for (const step of [() => registry?.stop(), () => rm(workDir, { recursive: true, force: true, maxRetries: 3 })]) {
    try {
      await step();
    } catch (err) {
      problems.push(err);
    }
  }
  return problems;
}

/** The user's environment, minus proxies, with gantry's and docker's state pointed into the demo's directory. */
function demoEnv(env: NodeJS.ProcessEnv, workDir: string): NodeJS.ProcessEnv {
  const kept = Object.fromEntries(Object.entries(env).filter(([k]) => !PROXY_VARIABLES.has(k.toLowerCase())));
  return {
    ...kept,
    GANTRY_HOME: join(workDir, 'home'),
    DOCKER_CONFIG: join(workDir, 'docker'),
    GANTRY_CONFIG: join(workDir, 'gantry-config.json'),
  };
}
