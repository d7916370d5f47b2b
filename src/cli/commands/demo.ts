import { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { CliIo } from '../io.js';
import type { RunCommand } from '../demo/run-demo.js';

/**
 * How the demo builds a fresh gantry program for each command it runs:
 * `buildProgram` from program.ts, passed in by the command list (importing
 * it here would make an import cycle).
 */
export type ProgramBuilder = (io: CliIo, signal: AbortSignal) => { program: Command; close: () => Promise<void> };

export function demoCommand(context: () => CommandContext, buildProgram: ProgramBuilder): Command {
  return new Command('demo')
    .description('walk through push, tags, copy, pull, images, tag and rmi against a throwaway local registry, then clean up (offline)')
    .addHelpText(
      'after',
      '\nNeeds the CNCF distribution registry (Debian package docker-registry) on PATH; nothing else, and no network.\n' +
        'It works in one temporary directory (under $TMPDIR) and leaves nothing behind, also on Ctrl-C.\n' +
        '\nExamples:\n' +
        '  gantry demo\n' +
        '  npm start                      # the same, from a clone\n' +
        '  gantry --debug demo            # every HTTP request of every step, on stderr',
    )
    .action(async () => {
      const ctx = context();
      const globalArgs = [...(ctx.globals.debug ? ['--debug'] : []), ...(ctx.globals.color === false ? ['--no-color'] : [])];
      // Loaded here: the demo's image builder brings a tar library no other command needs at start.
      const { runDemo } = await import('../demo/run-demo.js');
      await runDemo({ io: ctx.io, out: ctx.output(), signal: ctx.signal, run: inProcess(buildProgram), globalArgs });
    });
}

/** Run a command line through a fresh program, as main does, leaving the reporting of its error to the caller. */
function inProcess(buildProgram: ProgramBuilder): RunCommand {
  return async (argv, io, signal) => {
    const { program, close } = buildProgram(io, signal);
    try {
      await program.parseAsync(argv, { from: 'user' });
    } finally {
      await close();
    }
  };
}
