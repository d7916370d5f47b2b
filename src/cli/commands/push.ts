import { Command } from 'commander';
import { GantryError, isGantryError } from '../../errors/index.js';
import { parseLocation, referenceOrDefaultTag, type ImageLocation } from '../../reference/index.js';
import { parseImageArgument } from '../image-argument.js';
import type { CommandContext } from '../context.js';
import { printOutcome, runTransfer } from '../transfer-run.js';
import { addTransferFlags, type TransferFlags } from './transfer-options.js';

const TAG = /^[\w][\w.-]{0,127}$/;

function collectTag(value: string, previous: string[] = []): string[] {
  if (!TAG.test(value)) throw new GantryError('USAGE', `invalid tag ${JSON.stringify(value)}`);
  return [...previous, value];
}

export function pushCommand(context: () => CommandContext): Command {
  const cmd = new Command('push')
    .description("upload an image to a registry: from gantry's local store (push REF), or from a layout or archive (push LOCATION REF)")
    .argument('<source-or-ref>', 'REF (from the local store), or a LOCATION such as oci:PATH[:TAG] or docker-archive:FILE[:REF|:@N]')
    .argument('[ref]', 'with a LOCATION (or a local REF): where to push it; without a tag, the source’s tag is kept')
    .option('-t, --tag <tag>', 'also push under this tag (repeatable)', collectTag)
    .option('--all-tags', 'push every image of the layout or archive under its own tag');
  return addTransferFlags(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  gantry push registry.example.com/team/app:1.4          # from the local store\n' +
        '  gantry push oci:./layout:1.4 registry.example.com/team/app:1.4 -t 1 -t latest\n' +
        '  gantry push --all-tags oci:./layout registry.example.com/team/app\n' +
        '  gantry push docker-archive:app.tar registry.example.com/team/app:1.4',
    )
    .action(async (first: string, second: string | undefined, opts: TransferFlags & { tag?: string[]; allTags?: boolean }) => {
      const ctx = context();
      const out = ctx.output(opts);
      let source: ImageLocation;
      let targetRef;
      // A bare REF source (either form) is an image of the local store: push uploads what is here.
      let implicitLocal = false;
      if (second === undefined) {
        targetRef = referenceOrDefaultTag(parseImageArgument(first, 'local'));
        source = { transport: 'local', ref: targetRef };
      } else {
        source = parseLocation(first);
        // docker push has no other source; docker://REF reads a registry, as copy does.
        if (source.transport === 'registry' && !first.startsWith('docker://')) {
          source = { transport: 'local', ref: referenceOrDefaultTag(source.ref) };
          implicitLocal = true;
        }
        // Without a tag, the image keeps its own tag from the source, as with copy; `latest` when it has none.
        targetRef = parseImageArgument(second, 'registry');
      }
      if (opts.allTags && opts.tag) {
        throw new GantryError('USAGE', '--all-tags pushes each image under its own tags; -t would give one tag to every image', {
          hint: 'push one image with -t, or tag afterwards with gantry tag',
        });
      }
      if (opts.allTags && source.transport === 'registry') {
        throw new GantryError('USAGE', '--all-tags pushes every image of a layout or archive; every tag of a registry repository is copied with copy --all-tags', {
          hint: `gantry copy --all-tags ${first.replace(/^docker:\/\//, '')} ${second ?? 'DESTINATION'}`,
        });
      }
      if (opts.allTags && source.transport === 'local') {
        throw new GantryError('USAGE', '--all-tags pushes every image of a layout or archive; images of the local store are pushed one by one', {
          hint: 'gantry images lists them; gantry push REF pushes one',
        });
      }
      if (opts.allTags && (targetRef.tag || targetRef.digest)) {
        throw new GantryError('USAGE', '--all-tags pushes each image under its own tag: name a repository without a tag', {
          hint: 'e.g. gantry push --all-tags oci:./layout registry.example.com/team/app',
        });
      }
      if (opts.allTags && 'tag' in source && source.tag) {
        throw new GantryError('USAGE', '--all-tags reads every image of the layout: leave the tag out of the source');
      }
      const outcome = await runTransfer(ctx, out, {
        source,
        target: { transport: 'registry', ref: targetRef },
        verb: 'push',
        // Several images at the source are pushed only when asked: --all-tags.
        oneImageHint: 'pick one at the source (e.g. oci:DIR:TAG, docker-archive:FILE:@N), or push them all with --all-tags',
        ...(opts.allTags ? { manyImages: true } : {}),
        ...(opts.tag ? { extraTags: opts.tag } : {}),
        ...(opts.platform ? { platforms: opts.platform } : {}),
        ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      }).catch((err: unknown) => {
        // Only the store's own answer (not a destination's 404): the bare REF was looked up there.
        if (implicitLocal && isGantryError(err, 'NOT_FOUND') && / in the local store/.test(err.message)) {
          throw new GantryError(err.code, err.message, {
            hint: `${err.hint ? `${err.hint} ` : ''}push reads a bare REF from the local store; to copy it from a registry: gantry copy ${first} ${second ?? ''}`.trim(),
            cause: err,
            ...(err.details ? { details: err.details } : {}),
          });
        }
        throw err;
      });
      printOutcome(out, outcome);
    });
}
