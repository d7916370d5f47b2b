import { Command, Option } from 'commander';
import { GantryError } from '../../errors/index.js';
import { parseLocation } from '../../reference/index.js';
import type { CommandContext } from '../context.js';
import { printOutcome, runTransfer } from '../transfer-run.js';
import { addTransferFlags, type TransferFlags } from './transfer-options.js';

export function copyCommand(context: () => CommandContext): Command {
  const cmd = new Command('copy')
    .alias('cp')
    .description('copy an image between registries, OCI layouts, archives and the local store')
    .argument('<source>', 'REF, docker://REF, oci:PATH[:TAG], ocidir://PATH[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF|:@N] or local:REF')
    .argument('<destination>', 'the same forms (not @N); a registry destination without a tag keeps the source tag')
    .option('--all-tags', 'copy every tag of a registry repository (the destination names a repository)')
    // skopeo's flags for what gantry does anyway: accepted, so skopeo command lines run unchanged.
    .addOption(new Option('--all', "skopeo's flag: every platform is copied already").hideHelp())
    .addOption(new Option('--preserve-digests', "skopeo's flag: digests are always kept").hideHelp());
  return addTransferFlags(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  gantry copy alpine:3.20 registry.example.com/base/alpine:3.20\n' +
        '  gantry cp --platform linux/amd64 --platform linux/arm64 nginx:1.27 ghcr.io/org/nginx:1.27\n' +
        '  gantry copy --all-tags ghcr.io/org/app registry.internal/org/app\n' +
        '  gantry copy ghcr.io/org/app:1.4 oci:./app-layout:1.4\n' +
        '  gantry copy oci-archive:app.tar:1.4 registry.internal/app:1.4\n' +
        '  gantry copy --all-tags --platform linux/amd64 ghcr.io/org/app docker-archive:app.tar   # docker load restores every tag\n' +
        '  gantry copy docker-archive:images.tar:@1 registry.internal/app:2.0\n' +
        '  DIGEST=$(gantry copy -q app:1.4 registry.internal/app:1.4)',
    )
    .action(async (src: string, dst: string, opts: TransferFlags & { allTags?: boolean; preserveDigests?: boolean }) => {
      const ctx = context();
      const out = ctx.output(opts);
      if (opts.preserveDigests && (opts.platform?.length ?? 0) > 1) {
        // Several platforms of an index make a new index, with a digest of its own (one platform keeps its manifest's).
        throw new GantryError('USAGE', '--preserve-digests with several --platform values: a subset of an index is a new index with another digest', {
          hint: 'Drop --platform to copy the index as it is, or give one platform (its manifest keeps its digest).',
        });
      }
      const outcome = await runTransfer(ctx, out, {
        source: parseLocation(src),
        target: parseLocation(dst),
        verb: 'copy',
        ...(opts.allTags ? { allTags: true } : {}),
        ...(opts.platform ? { platforms: opts.platform } : {}),
        ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      });
      printOutcome(out, outcome);
    });
}
