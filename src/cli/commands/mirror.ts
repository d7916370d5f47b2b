import { Command, InvalidArgumentError } from 'commander';
import { parsePlatform } from '../../media/index.js';
import type { Platform } from '../../media/types.js';
import type { CommandContext } from '../context.js';
import { DEFAULT_CONNECTIONS, type MirrorFlags } from './mirror-flags.js';

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
    // The mirror machinery (YAML, schema validation, semver selection) loads only when mirror runs: every other command starts faster.
    .action(async (args: string[], opts: MirrorFlags) => (await import('./mirror-action.js')).mirrorAction(context(), args, opts));
}
