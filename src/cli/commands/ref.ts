import { Command } from 'commander';
import { familiarReference, formatReference, parseReference } from '../../reference/index.js';
import type { Reference } from '../../reference/types.js';
import type { CommandContext } from '../context.js';

/** The stable `--json` shape: every key present, null when absent, no implied tag. */
export interface RefResult {
  registry: string;
  repository: string;
  tag: string | null;
  digest: string | null;
}

export function refResult(ref: Reference): RefResult {
  return { registry: ref.registry, repository: ref.repository, tag: ref.tag ?? null, digest: ref.digest ?? null };
}

export function refCommand(context: () => CommandContext): Command {
  return new Command('ref')
    .description('parse and normalize an image reference exactly as docker does')
    .argument('<ref>', 'an image reference, e.g. alpine:3.20 or ghcr.io/org/app@sha256:…')
    .option('--json', 'print {"registry","repository","tag","digest"} (null when absent)')
    .addHelpText('after', '\nExamples:\n  gantry ref alpine\n  gantry ref --json localhost:5000/team/app:1.2@sha256:…')
    .action((input: string, opts: { json?: boolean }) => {
      const ctx = context();
      const out = ctx.output(opts);
      const ref = parseReference(input);
      if (out.json) {
        out.printJson(refResult(ref));
        return;
      }
      out.fields([
        ['familiar', familiarReference(ref)],
        ['canonical', formatReference(ref)],
        ['registry', ref.registry],
        ['repository', ref.repository],
        ['tag', ref.tag ?? out.c.dim('(none)')],
        ['digest', ref.digest ?? out.c.dim('(none)')],
      ]);
    });
}
