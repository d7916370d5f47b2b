import { Command } from 'commander';
import { parsePlatform, selectManifest } from '../../media/index.js';
import { parseReference, referenceOrDefaultTag } from '../../reference/index.js';
import type { CommandContext } from '../context.js';

export function digestCommand(context: () => CommandContext): Command {
  return new Command('digest')
    .description("print the digest of an image's manifest (a HEAD request; no download)")
    .argument('<ref>', 'image reference; the tag defaults to latest')
    .option('--platform <os/arch[/variant]>', 'for an index, the digest of the image for this platform')
    .addHelpText(
      'after',
      '\nExamples:\n  gantry digest alpine:3.20\n  gantry digest --platform linux/arm64 alpine:3.20\n  IMG="app@$(gantry digest registry.example.com/app:prod)"',
    )
    .action(async (input: string, opts: { platform?: string }) => {
      const ctx = context();
      const out = ctx.output();
      const ref = referenceOrDefaultTag(parseReference(input));
      const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
      const client = await ctx.client();
      if (!platform) {
        const head = await client.headManifest(ref, { signal: ctx.signal });
        out.line(head.digest);
        return;
      }
      const top = await client.getManifest(ref, { signal: ctx.signal });
      // An image (not an index) has one platform: its own digest answers.
      out.line(top.kind === 'index' ? selectManifest(top.manifest, platform).digest : top.digest);
    });
}
