import { setMaxListeners } from 'node:events';
import { CommanderError } from 'commander';
import { ExitCode, GantryError } from '../errors/index.js';
import { asFileError } from '../internal/file-error.js';
import { redactUrl } from '../internal/redact.js';
import { processIo, type CliIo } from './io.js';
import { buildProgram } from './program.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface MainOptions {
  io?: CliIo;
  /** Aborts the running command (Ctrl-C); main installs a SIGINT handler when not given. */
  signal?: AbortSignal;
}

/**
 * Runs gantry with the given arguments and resolves its exit code. Never
 * throws and never calls process.exit, so it runs in-process under test.
 */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const io = options.io ?? processIo();
  const controller = new AbortController();
  // Every request and stream in flight listens on this one signal: a copy with
  // 8 blobs in flight legitimately holds dozens of listeners, and node's
  // leak warning (at 10) would be printed in the middle of the user's output.
  setMaxListeners(1024, controller.signal);
  let onSigint: (() => void) | undefined;
  if (options.signal) {
    options.signal.addEventListener('abort', () => controller.abort(options.signal?.reason), { once: true });
  } else {
    // SIGTERM (kill, a cancelled CI job) and SIGHUP stop as cleanly as Ctrl-C, so
    // uploads in flight end their chunk and stay resumable.
    onSigint = () => controller.abort(new GantryError('INTERRUPTED', 'interrupted'));
    for (const sig of STOP_SIGNALS) process.once(sig, onSigint);
  }
  const state = { debug: argv.includes('--debug'), json: argv.includes('--json') };
  const { program, close } = buildProgram(io, controller.signal);
  try {
    // `gantry` alone: the overview on stdout, as a successful run (as docker does).
    await program.parseAsync(argv.length === 0 ? ['--help'] : argv, { from: 'user' });
    return typeof process.exitCode === 'number' && options.io === undefined ? process.exitCode : ExitCode.OK;
  } catch (err) {
    if (controller.signal.aborted) {
      // Whatever the command was doing when it stopped: the one error to report is the interruption.
      const interrupted = new GantryError('INTERRUPTED', 'interrupted');
      io.stderr.write(state.json ? `${JSON.stringify({ error: interrupted.toJSON() })}\n` : 'error: interrupted\n');
      return ExitCode.INTERRUPTED;
    }
    return reportError(io, err, state);
  } finally {
    if (onSigint) for (const sig of STOP_SIGNALS) process.removeListener(sig, onSigint);
    await close().catch(() => undefined);
  }
}

function reportError(io: CliIo, err: unknown, state: { debug: boolean; json: boolean }): number {
  if (err instanceof CommanderError) {
    // commander has already printed its message (help, version, usage errors).
    if (err.exitCode === 0) return ExitCode.OK;
    return ExitCode.USAGE;
  }
  if (err instanceof GantryError) {
    if (state.json) {
      io.stderr.write(`${JSON.stringify({ error: err.toJSON() })}\n`);
    } else {
      io.stderr.write(`error: ${err.message}\n`);
      writePosition(io, err);
      if (err.hint) io.stderr.write(`hint: ${err.hint}\n`);
    }
    if (state.debug) writeCauses(io, err);
    return err.exitCode;
  }
  const fileError = asFileError(err);
  if (fileError) return reportError(io, fileError, state);
  const message = err instanceof Error ? err.message : String(err);
  io.stderr.write(`error: internal error: ${message}\n`);
  io.stderr.write('hint: this is a bug in gantry; run again with --debug and report the output.\n');
  if (state.debug && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  return ExitCode.FAILURE;
}

function writeCauses(io: CliIo, err: Error): void {
  let cause: unknown = err.cause;
  for (let depth = 0; cause !== undefined && depth < 8; depth++) {
    const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    io.stderr.write(`debug: caused by ${redactUrl(text)}\n`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
}

/** For input errors that know where they went wrong, show the input with a caret under the spot. */
function writePosition(io: CliIo, err: GantryError): void {
  const input = err.details?.input;
  const position = err.details?.position;
  if (typeof input !== 'string' || typeof position !== 'number' || input.length > 300) return;
  io.stderr.write(`  ${input}\n  ${' '.repeat(Math.max(0, Math.min(position, input.length)))}^\n`);
}
