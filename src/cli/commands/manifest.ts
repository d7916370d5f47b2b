import { Command } from 'commander';
import { parsePlatform } from '../../media/index.js';
import { referenceOrDefaultTag } from '../../reference/index.js';
import { resolveManifest } from '../../registry/resolve.js';
import type { CommandContext } from '../context.js';
import { parseImageArgument } from '../image-argument.js';

export function manifestCommand(context: () => CommandContext): Command {
  const manifest = new Command('manifest')
    .description('read manifests')
    .addHelpText('after', '\nExamples:\n  gantry manifest get alpine:3.20\n  gantry manifest get --raw --platform linux/arm64 alpine:3.20 | sha256sum');
  manifest
    .command('get')
    .description('print a manifest (pretty JSON, or the exact bytes with --raw)')
    .argument('<ref>', 'image reference; the tag defaults to latest')
    .option('--platform <os/arch[/variant]>', 'for an index, the manifest of the image for this platform')
    .option('--raw', 'write the bytes exactly as the registry served them (their sha256 is the digest)')
    .addHelpText(
      'after',
      '\nExamples:\n  gantry manifest get alpine:3.20\n  gantry manifest get --raw ghcr.io/org/app:1 | sha256sum\n  gantry manifest get --platform linux/amd64 nginx',
    )
    .action(async (input: string, opts: { platform?: string; raw?: boolean }) => {
      const ctx = context();
      const ref = referenceOrDefaultTag(parseImageArgument(input, 'registry'));
      const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
      const client = await ctx.client();
      const { top, image } = await resolveManifest(client, ref, { signal: ctx.signal, ...(platform ? { platform } : {}) });
      const chosen = image ?? top;
      if (opts.raw) {
        await new Promise<void>((resolve, reject) => ctx.io.stdout.write(chosen.bytes, (err) => (err ? reject(err) : resolve())));
        return;
      }
      ctx.output().printJson(chosen.manifest);
    });
  return manifest;
}
