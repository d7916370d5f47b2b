import { Command } from 'commander';
import { parseLocation, referenceOrDefaultTag } from '../../reference/index.js';
import type { CommandContext } from '../context.js';
import { printOutcome, runTransfer } from '../transfer-run.js';
import { addTransferFlags, type TransferFlags } from './transfer-options.js';
import { parseImageArgument } from '../image-argument.js';

export function pullCommand(context: () => CommandContext): Command {
  const cmd = new Command('pull')
    .description("download an image from a registry into gantry's local store (or -o LOCATION)")
    .argument('<ref>', 'image reference; the tag defaults to latest')
    .option('-o, --output <location>', 'write here instead: oci:PATH[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF]');
  return addTransferFlags(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  gantry pull alpine:3.20                       # into the local store: gantry images lists it\n' +
        '  gantry pull --platform linux/arm64 nginx\n' +
        '  gantry pull -o docker-archive:alpine.tar alpine:3.20 --platform linux/amd64   # for docker load\n' +
        '  gantry pull -o oci:./layout ghcr.io/org/app:1.4',
    )
    .action(async (input: string, opts: TransferFlags & { output?: string }) => {
      const ctx = context();
      const out = ctx.output(opts);
      const ref = referenceOrDefaultTag(parseImageArgument(input, 'registry'));
      const outcome = await runTransfer(ctx, out, {
        source: { transport: 'registry', ref },
        target: opts.output ? parseLocation(opts.output) : { transport: 'local', ref },
        verb: 'pull',
        ...(opts.platform ? { platforms: opts.platform } : {}),
        ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      });
      printOutcome(out, outcome);
    });
}
