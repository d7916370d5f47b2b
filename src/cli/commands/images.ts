import { Command } from 'commander';
import { familiarName, parseRepository } from '../../reference/index.js';
import { listImages } from '../../transports/local-store/index.js';
import type { CommandContext } from '../context.js';
import { formatBytes } from '../output.js';

export function imagesCommand(context: () => CommandContext): Command {
  return new Command('images')
    .description("list the images in gantry's local store (what pull wrote and push reads)")
    .option('--json', 'print [{"name","tag","digest","mediaType","platforms","size"}]')
    .option('-q, --quiet', 'print only name:tag (or name@digest), one a line')
    .addHelpText('after', '\nExamples:\n  gantry images\n  gantry images --json | jq -r \'.[] | "\\(.name):\\(.tag) \\(.size)"\'')
    .action(async (opts: { json?: boolean; quiet?: boolean }) => {
      const ctx = context();
      const out = ctx.output(opts);
      const images = await listImages(ctx.io.env);
      if (out.json) {
        out.printJson(images);
        return;
      }
      const label = (name: string) => familiarName(parseRepository(name));
      if (out.quiet) {
        out.lines(images.map((i) => (i.tag ? `${label(i.name)}:${i.tag}` : `${label(i.name)}@${i.digest}`)));
        return;
      }
      out.table(
        ['REPOSITORY', 'TAG', 'DIGEST', 'PLATFORMS', 'SIZE'],
        images.map((i) => [label(i.name), i.tag ?? '<none>', out.tty ? i.digest.slice(0, 19) : i.digest, i.platforms.join(',') || '-', formatBytes(i.size)]),
      );
    });
}
