import type { RunningRegistry } from '../test/helpers/registry.js';
import { killRunning } from './measure.js';

// Ctrl-C or kill: kill the measured tool, stop the registries (waiting, so no
// orphan is left behind), then exit; the helpers' exit hooks remove the temp
// dirs and SIGKILL any registry that did not stop. A second signal kills at once.
const EXIT_DEADLINE_MS = 15_000;

/** Run a bench's `main` as the process: its exit code, clean-up on signals, a readable failure. */
export function runBench(main: (argv: string[]) => Promise<number>, started: ReadonlySet<RunningRegistry>): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping and cleaning up\n`);
      killRunning();
      setTimeout(() => process.exit(130), EXIT_DEADLINE_MS).unref();
      void Promise.allSettled([...started].map((r) => r.stop())).then(() => process.exit(130));
    });
  }
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      killRunning();
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
