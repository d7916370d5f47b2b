import { Command } from 'commander';
import { GantryError } from '../../errors/index.js';
import { familiarName, familiarReference, withDigest, withoutTagOrDigest } from '../../reference/index.js';
import { tagsNaming } from '../../registry/tag-lookup.js';
import type { ManifestHead } from '../../registry/types.js';
import type { CommandContext } from '../context.js';
import { promptLine } from '../prompt.js';
import { parseImageArgument } from '../image-argument.js';

interface DeleteOptions {
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** The `--json` result. */
interface DeleteResult {
  /** The manifest, by digest: `registry.example.com/app@sha256:…`. */
  reference: string;
  digest: string;
  mediaType: string;
  /** Every tag that named the manifest, and so goes with it. */
  tags: string[];
  deleted: boolean;
  dryRun: boolean;
}

export function deleteCommand(context: () => CommandContext): Command {
  return new Command('delete')
    .description('delete a manifest from a registry, with every tag that names it (asks first)')
    .argument('<ref>', 'NAME:TAG (resolved to its digest first) or NAME@DIGEST')
    .option('-y, --yes', 'delete without asking (needed when standard input is not a terminal)')
    .option('--dry-run', 'show the digest and the tags that would go, and delete nothing')
    .option('--json', 'print {"reference","digest","mediaType","tags","deleted","dryRun"}')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  gantry delete registry.example.com/app:pr-1234\n' +
        '  gantry delete --dry-run localhost:5000/team/app:1.2.3\n' +
        '  gantry delete --yes localhost:5000/team/app@sha256:9feecd35038577e5e2b58a526e683962664eec9b9b5de1667b8eef3c6acbf499\n' +
        "To remove one tag and keep the image for its other tags, use 'gantry untag'.",
    )
    .action(async (input: string, opts: DeleteOptions) => {
      const ctx = context();
      const out = ctx.output(opts);
      const ref = parseImageArgument(input, 'registry');
      if (ref.tag === undefined && ref.digest === undefined) {
        throw new GantryError('USAGE', `name the manifest to delete: ${input}:TAG or ${input}@DIGEST`, {
          hint: 'delete never assumes :latest; `gantry tags REPO` lists the tags.',
        });
      }
      const interactive = ctx.io.stdin.isTTY === true;
      const dryRun = opts.dryRun === true;
      // Refused before any request: a script without --yes fails the same way whatever the registry holds.
      if (!dryRun && opts.yes !== true && !interactive) {
        throw new GantryError('USAGE', `gantry delete asks before deleting, and standard input is not a terminal`, {
          hint: 'Add --yes to delete without asking, or --dry-run to see what would go.',
        });
      }
      const client = await ctx.client();
      const repo = withoutTagOrDigest(ref);
      const spinner = out.spinner(`Looking up ${input} and the tags that name it`);
      let head: ManifestHead;
      let tags: string[];
      try {
        head = await client.headManifest(ref, { signal: ctx.signal });
        tags = (await tagsNaming(client, repo, head.digest, { signal: ctx.signal })).sort();
      } finally {
        spinner.stop();
      }
      const target = withDigest(repo, head.digest);
      const result: DeleteResult = { reference: familiarReference(target), digest: head.digest, mediaType: head.mediaType, tags, deleted: false, dryRun };
      const others = tags.filter((t) => t !== ref.tag);
      const going = tags.length === 0 ? 'no tag names it' : `it takes the tag${tags.length === 1 ? '' : 's'} ${tags.join(', ')}`;

      if (dryRun) {
        if (out.json) out.printJson(result);
        else out.line(`Would delete ${result.reference}: ${going}`);
        return;
      }
      if (opts.yes !== true) {
        const also = others.length > 0 ? ` It also removes the tag${others.length === 1 ? '' : 's'} ${others.join(', ')}.` : '';
        const answer = await promptLine(ctx.io, `Delete ${result.reference}?${also} [y/N] `, ctx.signal);
        if (!/^y(es)?$/i.test(answer.trim())) {
          if (out.json) out.printJson(result);
          else out.info('Nothing deleted.');
          return;
        }
      }
      await client.deleteManifest(target, { signal: ctx.signal });
      result.deleted = true;
      if (out.json) {
        out.printJson(result);
        return;
      }
      for (const tag of tags) out.line(`Untagged: ${familiarName(repo)}:${tag}`);
      out.line(`Deleted: ${result.reference}`);
    });
}
