import { Command } from 'commander';
import { referenceOrDefaultTag } from '../../reference/index.js';
import { parseRateLimit } from '../../registry/rate-limit.js';
import type { CommandContext } from '../context.js';
import { parseImageArgument } from '../image-argument.js';

/** Docker's documented image for checking the allowance; a HEAD of it does not count as a pull. */
const DEFAULT_REF = 'docker.io/ratelimitpreview/test:latest';

export function ratelimitCommand(context: () => CommandContext): Command {
  return new Command('ratelimit')
    .description("show Docker Hub's pull allowance (from the ratelimit headers of a manifest HEAD, which costs no pull)")
    .argument('[ref]', 'image to ask about', DEFAULT_REF)
    .option('--json', 'print {"registry","limit","remaining","windowSeconds","source"}')
    .addHelpText('after', '\nExamples:\n  gantry ratelimit\n  gantry login -u USER --password-stdin < token && gantry ratelimit --json')
    .action(async (input: string, opts: { json?: boolean }) => {
      const ctx = context();
      const out = ctx.output(opts);
      const ref = referenceOrDefaultTag(parseImageArgument(input, 'registry'));
      const client = await ctx.client();
      const head = await client.headManifest(ref, { signal: ctx.signal });
      const rl = parseRateLimit(head.headers);
      if (out.json) {
        out.printJson({ registry: ref.registry, ...rl });
        return;
      }
      if (rl.limit === null) {
        out.line(`${ref.registry}: no rate limit reported (unlimited for this account, or the registry sends no ratelimit headers)`);
        return;
      }
      const hours = rl.windowSeconds ? ` per ${rl.windowSeconds / 3600}h` : '';
      out.fields([
        ['Registry', ref.registry],
        ['Limit', `${rl.limit}${hours}`],
        ['Remaining', rl.remaining === null ? undefined : String(rl.remaining)],
        ['Source', rl.source ?? undefined],
      ]);
    });
}
