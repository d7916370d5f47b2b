import { Command } from 'commander';
import { GantryError, isGantryError } from '../../errors/index.js';
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
      const missing: GantryError[] = [];
      for (const input of inputs) {
        let result: RemovedImage;
        try {
          result = await removeImage(ctx.io.env, referenceOrDefaultTag(parseImageArgument(input, 'local')), { signal: ctx.signal });
        } catch (err) {
          // As docker rmi: a name that is not there (or not a name) is reported, and the others are still removed.
          if (!isGantryError(err, 'NOT_FOUND') && !isGantryError(err, 'REFERENCE_INVALID')) throw err;
          if (!out.json) ctx.io.stderr.write(`error: ${err.message}\n`);
          missing.push(err);
          continue;
        }
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
      const [first] = missing;
      if (first) {
        throw new GantryError(first.code, `${missing.length} of ${inputs.length} image${inputs.length === 1 ? '' : 's'} not removed`, {
          hint: first.hint ?? 'gantry images lists what the local store holds.',
          details: { notRemoved: missing.map((e) => e.message) },
        });
      }
    });
}
