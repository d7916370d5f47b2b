import { Command } from 'commander';
import { referenceOrDefaultTag } from '../../reference/index.js';
import { listImages, removeImage, type RemovedImage } from '../../transports/local-store/index.js';
import type { CommandContext } from '../context.js';
import { formatBytes } from '../output.js';
import { parseImageArgument } from '../image-argument.js';

export function rmiCommand(context: () => CommandContext): Command {
  return new Command('rmi')
    .description('remove images from the local store, and the blobs nothing else uses')
    .argument('<ref...>', 'image references; the tag defaults to latest')
    .option('--json', 'print what was removed')
    .addHelpText('after', '\nExamples:\n  gantry rmi alpine:3.20\n  gantry rmi $(gantry images -q)')
    .action(async (inputs: string[], opts: { json?: boolean }) => {
      const ctx = context();
      const out = ctx.output(opts);
      const removed: RemovedImage[] = [];
      for (const input of inputs) {
        const result = await removeImage(ctx.io.env, referenceOrDefaultTag(parseImageArgument(input, 'local')), { signal: ctx.signal });
        removed.push(result);
        if (!out.json) {
          for (const name of result.names) out.line(`Untagged: ${name}`);
          // As docker: the image itself is deleted only when no other name uses it.
          if ((await listImages(ctx.io.env)).some((image) => image.digest === result.digest)) continue;
          const g = result.garbage;
          out.line(
            g.deferred
              ? `Deleted: ${result.digest} (other copies are running: its blobs are freed by a later rmi)`
              : `Deleted: ${result.digest} (${g.deletedBlobs} blob${g.deletedBlobs === 1 ? '' : 's'}, ${formatBytes(g.freedBytes)} freed)`,
          );
        }
      }
      if (out.json) out.printJson(removed);
    });
}
