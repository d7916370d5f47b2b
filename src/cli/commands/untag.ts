import { Command } from 'commander';
import { untagManifest, type UntagResult } from '../../registry/untag.js';
import type { CommandContext } from '../context.js';
import { parseImageArgument } from '../image-argument.js';

export function untagCommand(context: () => CommandContext): Command {
  return new Command('untag')
    .description('remove one tag from a registry, keeping the image for its other tags and its digest')
    .argument('<ref>', 'NAME:TAG, e.g. registry.example.com/app:v1')
    .option('--json', 'print {"reference","tag","digest","method","placeholder"}')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  gantry untag registry.example.com/app:rc-42\n' +
        '  gantry untag --json localhost:5000/team/app:v1\n' +
        '  for t in $(gantry tags localhost:5000/app | grep ^pr-); do gantry untag "localhost:5000/app:$t"; done',
    )
    .action(async (input: string, opts: { json?: boolean }) => {
      const ctx = context();
      const out = ctx.output(opts);
      const ref = parseImageArgument(input, 'registry');
      const client = await ctx.client();
      const spinner = out.spinner(`Removing the tag ${input}`);
      let result: UntagResult;
      try {
        result = await untagManifest(client, ref, { signal: ctx.signal });
      } finally {
        spinner.stop();
      }
      if (out.json) {
        out.printJson(result);
        return;
      }
      out.line(`Untagged: ${result.reference}`);
      if (result.resumed) out.info(`(finished an interrupted untag: removed the placeholder ${result.placeholder ?? ''})`);
      else out.info(`${result.digest} is kept for its other tags and by digest`);
    });
}
