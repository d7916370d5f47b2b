import { Command, Option } from 'commander';
import { CommandContext, type GlobalOptions } from './context.js';
import type { CliIo } from './io.js';
import { VERSION } from './version.js';
import { catalogCommand } from './commands/catalog.js';
import { copyCommand } from './commands/copy.js';
import { demoCommand } from './commands/demo.js';
import { imagesCommand } from './commands/images.js';
import { rmiCommand } from './commands/rmi.js';
import { pullCommand } from './commands/pull.js';
import { pushCommand } from './commands/push.js';
import { digestCommand } from './commands/digest.js';
import { inspectCommand } from './commands/inspect.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { manifestCommand } from './commands/manifest.js';
import { ratelimitCommand } from './commands/ratelimit.js';
import { refCommand } from './commands/ref.js';
import { tagsCommand } from './commands/tags.js';
import { tagCommand } from './commands/tag.js';
import { deleteCommand } from './commands/delete.js';
import { untagCommand } from './commands/untag.js';
import { mirrorCommand } from './commands/mirror.js';

/** A command module: builds its commander Command, given a way to reach the shared context. */
export type CommandFactory = (context: () => CommandContext) => Command;

const COMMANDS: CommandFactory[] = [
  copyCommand,
  pullCommand,
  pushCommand,
  imagesCommand,
  rmiCommand,
  tagCommand,
  untagCommand,
  deleteCommand,
  mirrorCommand,
  refCommand,
  loginCommand,
  logoutCommand,
  tagsCommand,
  digestCommand,
  manifestCommand,
  inspectCommand,
  catalogCommand,
  ratelimitCommand,
  (context) => demoCommand(context, buildProgram),
];

/** The commander program, wired to the given IO; `close` releases connections after a run. */
export function buildProgram(io: CliIo, signal: AbortSignal): { program: Command; close: () => Promise<void> } {
  let context: CommandContext | undefined;
  const program = new Command('gantry')
    .description('A client for container image registries: inspect, list, log in, copy — no daemon needed.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--debug', 'log HTTP requests to stderr (credentials and tokens redacted)')
    .option('--no-color', 'no colour in the output (also: NO_COLOR=1)')
    .option('--insecure', 'allow plain HTTP and unverified TLS for the registries of this command')
    .addOption(new Option('--ca-file <path>', 'trust this CA certificate (PEM) in addition to the system ones'))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(s),
    })
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 failure, 2 usage or invalid input, 3 authentication, 4 not found,\n' +
        '5 integrity (digest or size mismatch), 6 network or TLS, 130 interrupted.\n' +
        'Environment: DOCKER_CONFIG, GANTRY_CONFIG, GANTRY_HOME (local store and resume state), NO_COLOR, HTTPS_PROXY, HTTP_PROXY, NO_PROXY.\n' +
        "Run 'gantry COMMAND --help' for a command's options; docs/ has a page per command.",
    );

  const getContext = (): CommandContext => {
    context ??= new CommandContext(io, program.opts<GlobalOptions>(), signal);
    return context;
  };
  for (const factory of COMMANDS) {
    const cmd = factory(getContext);
    wireOutput(cmd, io);
    program.addCommand(cmd);
  }
  return { program, close: async () => context?.close() };
}

/** addCommand does not pass settings down, so each (nested) command gets the IO and error behaviour. */
function wireOutput(cmd: Command, io: CliIo): void {
  cmd
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    });
  for (const sub of cmd.commands) wireOutput(sub, io);
}
