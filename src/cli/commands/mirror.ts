import { Command, InvalidArgumentError } from 'commander';
import { GantryError } from '../../errors/index.js';
import { createLimiter } from '../../internal/limiter.js';
import { parsePlatform } from '../../media/index.js';
import type { Platform } from '../../media/types.js';
import { runMirror, type MirrorSpec } from '../../mirror/index.js';
import type { CommandContext } from '../context.js';
import { createCliMirrorOps } from '../mirror-ops.js';
import { printPlan, printSummary, recordLine } from '../mirror-report.js';
import { mirrorSpecOf, shardOfFlags, type MirrorSpecFlags } from '../mirror-spec.js';
import { promptLine } from '../prompt.js';

interface MirrorFlags extends MirrorSpecFlags {
  dryRun?: boolean;
  prune?: boolean;
  yes?: boolean;
  skipExisting?: boolean;
  shard?: string;
  shards?: number;
  concurrency?: number;
  connections?: number;
  json?: boolean;
}

/** Connections per registry host when neither the file nor --connections says. */
const DEFAULT_CONNECTIONS = 8;

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const collectPlatform = (value: string, previous: Platform[] = []): Platform[] => [...previous, parsePlatform(value)];
const wholeNumber = (max: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected a whole number from 1 to ${max}`);
  return n;
};

export function mirrorCommand(context: () => CommandContext): Command {
  return new Command('mirror')
    .description('keep destination repositories in sync with source repositories: compare digests with HEAD requests, copy only what differs')
    .argument('[repositories...]', 'SRC_REPO DST_REPO; or DST with --skopeo-yaml; none with -f')
    .option('-f, --file <mirror.yaml>', 'mirror every source of a file (see docs/mirror.md)')
    .option('--skopeo-yaml <file>', "read skopeo sync's YAML; the one argument is the destination")
    .option('--scoped', 'with --skopeo-yaml: put each repository under DST with its registry and path, as skopeo sync --scoped')
    .option('--semver <range>', 'only tags in this semver range, e.g. ">=3.19 <4"')
    .option('--include <regex>', 'only tags matching this regular expression (repeatable: all must match)', collect)
    .option('--exclude <regex>', 'drop tags matching this regular expression (repeatable)', collect)
    .option('--tag <tag>', 'always mirror this tag (repeatable)', collect)
    .option('--latest <n>', 'keep only the newest N of the selected versions', wholeNumber(100_000))
    .option('--prerelease', 'let --semver and --latest take prereleases and suffixed versions (3.22-alpine)')
    .option('--platform <os/arch[/variant]>', 'copy only this platform of an index (repeatable)', collectPlatform)
    .option('--dry-run', 'list and compare, then print the plan (copy / up to date / would prune) and change nothing')
    .option('--prune', 'untag destination tags the selection no longer includes (never one sharing a kept manifest)')
    .option('-y, --yes', 'prune without asking (needed when standard input is not a terminal)')
    .option('--skip-existing', 'treat destination tags as immutable: skip them without comparing digests')
    .option('--shard <I/N>', 'do part I of N (I from 0) of the work; N jobs together do all of it')
    .option('--shards <n>', 'the part count, the index coming from JOB_COMPLETION_INDEX (Kubernetes Indexed Job)', wholeNumber(1_000_000))
    .option('--concurrency <n>', 'images copied at once (default 4, or the file\'s defaults.concurrency)', wholeNumber(64))
    .option('--connections <n>', `requests in flight per registry across all images (default ${DEFAULT_CONNECTIONS})`, wholeNumber(256))
    .option('--json', 'print one record per image: source, destination, tag, sourceDigest, action, bytes, durationMs, error')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        "  gantry mirror alpine registry.example.com/mirror/alpine --semver '>=3.19' --latest 5\n" +
        "  gantry mirror ghcr.io/org/app localhost:5000/org/app --include '^v\\d+' --exclude '-rc' --platform linux/amd64\n" +
        '  gantry mirror -f mirror.yaml --dry-run\n' +
        '  gantry mirror -f mirror.yaml --prune --yes --shard 0/4\n' +
        '  gantry mirror -f mirror.yaml --shards 4          # in a Kubernetes Indexed Job\n' +
        '  gantry mirror --skopeo-yaml sync.yml my-registry.local.lan/repo\n' +
        '\nExit status: 0 when every image is mirrored or up to date; 1 when any failed or a rate limit\n' +
        'stopped the run (rerun to continue: the destination is the state); 2 for usage or file errors.',
    )
    .action(async (args: string[], opts: MirrorFlags) => {
      const ctx = context();
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
    });
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
