import { Command } from 'commander';
import { parsePlatform } from '../../media/index.js';
import { referenceOrDefaultTag } from '../../reference/index.js';
import { resolveManifest } from '../../registry/resolve.js';
import type { CommandContext } from '../context.js';
import { parseImageArgument } from '../image-argument.js';

export function digestCommand(context: () => CommandContext): Command {
  return new Command('digest')
    .description("print the digest of an image's manifest (a HEAD request; no download)")
    .argument('<ref>', 'image reference; the tag defaults to latest')
    .option('--platform <os/arch[/variant]>', 'for an index, the digest of the image for this platform')
    .option('--json', 'print {"digest","mediaType","size"}')
    .addHelpText(
      'after',
      '\nExamples:\n  gantry digest alpine:3.20\n  gantry digest --platform linux/arm64 alpine:3.20\n  IMG="app@$(gantry digest registry.example.com/app:prod)"',
    )
    .action(async (input: string, opts: { platform?: string; json?: boolean }) => {
      const ctx = context();
      const out = ctx.output(opts);
      const ref = referenceOrDefaultTag(parseImageArgument(input, 'registry'));
      const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
      const client = await ctx.client();
      let found: { digest: string; mediaType: string; size: number };
      if (platform) {
        const { image } = await resolveManifest(client, ref, { platform, signal: ctx.signal });
        if (!image) throw new Error('resolveManifest gave no image for a platform');
        found = { digest: image.digest, mediaType: image.mediaType, size: image.bytes.length };
      } else {
        const head = await client.headManifest(ref, { signal: ctx.signal });
        found = { digest: head.digest, mediaType: head.mediaType, size: head.size };
      }
      if (out.json) out.printJson(found);
      else out.line(found.digest);
    });
}
