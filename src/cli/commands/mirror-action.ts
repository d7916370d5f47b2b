import { GantryError } from '../../errors/index.js';
import { createLimiter } from '../../internal/limiter.js';
import { runMirror, type MirrorSpec } from '../../mirror/index.js';
import type { CommandContext } from '../context.js';
import { createCliMirrorOps } from '../mirror-ops.js';
import { printPlan, printSummary, recordLine } from '../mirror-report.js';
import { mirrorSpecOf, shardOfFlags } from '../mirror-spec.js';
import { promptLine } from '../prompt.js';
import { DEFAULT_CONNECTIONS, type MirrorFlags } from './mirror-flags.js';

/** `gantry mirror`: loaded on demand by the command's definition (commands/mirror.ts). */
export async function mirrorAction(ctx: CommandContext, args: string[], opts: MirrorFlags): Promise<void> {
  const out = ctx.output(opts);
  const shard = shardOfFlags(opts, ctx.io.env);
  const spec = await mirrorSpecOf(args, opts);
  const prune = opts.prune ?? spec.defaults.prune;
  const dryRun = opts.dryRun === true;
  if (prune && !dryRun && !(await confirmPrune(ctx, opts))) {
    out.info('Nothing mirrored: pruning was not confirmed.');
    return;
  }

  const rates = Object.fromEntries(Object.entries(spec.defaults.registries).flatMap(([host, l]) => (l.rps === undefined ? [] : [[host, l.rps] as const])));
  if (Object.keys(rates).length > 0) ctx.setRequestRates(rates);
  const limits = Object.fromEntries(Object.entries(spec.defaults.registries).flatMap(([host, l]) => (l.connections === undefined ? [] : [[host, l.connections] as const])));
  const limiter = createLimiter({ perKey: opts.connections ?? DEFAULT_CONNECTIONS, limits });
  const spinner = out.spinner(dryRun ? 'Comparing source and destination digests' : 'Mirroring');
  let result;
  try {
    result = await runMirror(spec, createCliMirrorOps(ctx, { limiter }), {
      dryRun,
      prune,
      skipExisting: opts.skipExisting ?? spec.defaults.skipExisting,
      ...(shard ? { shard } : {}),
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      signal: ctx.signal,
      onWarning: (m) => out.warn(m),
      onRecord: (r) => {
        const line = dryRun || out.json ? undefined : recordLine(r);
        if (line !== undefined) out.info(line);
      },
    });
  } finally {
    spinner.stop();
  }
  if (out.json) out.printJson(result.records);
  else if (dryRun) printPlan(out, result);
  else printSummary(out, result);
  failIfIncomplete(result, spec);
}

/** Whether to go on with `--prune`: `--yes`, or a yes on the terminal. */
async function confirmPrune(ctx: CommandContext, opts: MirrorFlags): Promise<boolean> {
  if (opts.yes === true) return true;
  // Refused before any request: a script without --yes fails the same way whatever the registries hold.
  if (ctx.io.stdin.isTTY !== true) {
    throw new GantryError('USAGE', '--prune asks before untagging, and standard input is not a terminal', {
      hint: 'Add --yes to prune without asking, or --dry-run to see what would go.',
    });
  }
  const answer = await promptLine(ctx.io, 'Untag destination tags the selection no longer includes? [y/N] ', ctx.signal);
  return /^y(es)?$/i.test(answer.trim());
}

function failIfIncomplete(result: Awaited<ReturnType<typeof runMirror>>, spec: MirrorSpec): void {
  if (result.stopped !== undefined) {
    const s = result.stopped;
    throw new GantryError('RATE_LIMITED', `${s.registry} has ${s.remaining} of ${s.limit} pulls left: stopped before ${s.undone} image${s.undone === 1 ? '' : 's'}`, {
      hint: 'Run the same command again once the rate-limit window resets; what was copied stays copied.',
    });
  }
  const failed = result.summary.failed;
  if (failed > 0) {
    const total = result.records.length;
    // Retrying cannot cure missing credentials: say what will.
    const authFailed = result.records.some((r) => r.action === 'failed' && /authentication required|unauthorized|denied/i.test(r.error ?? ''));
    throw new GantryError('REGISTRY_ERROR', `${failed} of ${total} mirror item${total === 1 ? '' : 's'} failed (${spec.sources.length} source${spec.sources.length === 1 ? '' : 's'})`, {
      hint: authFailed
        ? 'Some failed for want of access: `gantry login REGISTRY` (or fix the permissions), then run again; what is up to date is not copied again.'
        : 'The reasons are listed above; run again to retry them: what is up to date is not copied again.',
    });
  }
}
