import { Command, Option } from 'commander';
import { GantryError } from '../../errors/index.js';
import type { CommandContext } from '../context.js';
import { parseRepositoryArgument } from '../image-argument.js';

interface TagsOptions {
  semver?: string;
  strict?: boolean;
  prerelease?: boolean;
  sort?: 'semver' | 'alpha';
  latest?: boolean;
  json?: boolean;
}

export function tagsCommand(context: () => CommandContext): Command {
  return new Command('tags')
    // crane's name for it.
    .alias('ls')
    .description('list the tags of a repository (all pages)')
    .argument('<repository>', 'repository, e.g. alpine or ghcr.io/org/app')
    .option('--semver <range>', "only tags in this semver range, e.g. '>=1.2 <2' (v1.2.3 and 1.2 count as versions)")
    .option('--strict', 'only tags that are valid semver (optionally with a leading v) count as versions, for --semver, --latest and --sort semver')
    .option('--prerelease', 'include prereleases and suffixed versions (1.0.0-rc.1, 3.22-alpine)')
    .addOption(new Option('--sort <order>', 'sort order (default: semver with --semver, else as the registry lists them)').choices(['semver', 'alpha']))
    .option('--latest', 'print only the highest semver tag (after --semver filtering; --sort does not apply)')
    .option('--json', 'print a JSON array of strings')
    .addHelpText(
      'after',
      "\nExamples:\n  gantry tags alpine --semver '>=3.18' --sort semver\n  gantry tags ghcr.io/org/app --latest\n  gantry tags localhost:5000/app --json | jq -r '.[]'",
    )
    .action(async (repoArg: string, opts: TagsOptions) => {
      const ctx = context();
      const out = ctx.output(opts);
      const repo = parseRepositoryArgument(repoArg, 'registry');
      const selection = { strict: opts.strict === true, includePrerelease: opts.prerelease === true, includeSuffixed: opts.prerelease === true };
      // Validate the range before any network round trip.
      if (opts.semver) (await versions()).filterTags([], { range: opts.semver, ...selection });
      const client = await ctx.client();
      const spinner = out.spinner(`Listing tags of ${repoArg}`);
      const all: string[] = [];
      try {
        for await (const page of client.listTags(repo, { signal: ctx.signal })) all.push(...page);
      } finally {
        spinner.stop();
      }
      let tags = opts.semver ? (await versions()).filterTags(all, { range: opts.semver, ...selection }) : all;
      if (opts.latest) {
        const latest = (await versions()).latestTag(tags, selection);
        if (latest === null) {
          throw new GantryError('NOT_FOUND', `no tag of ${repoArg}${opts.semver ? ` in range ${opts.semver}` : ''} is a semver version`, {
            hint: opts.semver
              ? `no version tag satisfies ${opts.semver}${opts.prerelease ? '' : ' (prereleases and suffixed tags like 3.22-alpine count only with --prerelease)'}; \`gantry tags REPO --sort semver\` lists the versions`
              : opts.prerelease
                ? 'list the tags with `gantry tags REPO`'
                : 'add --prerelease to count prereleases and suffixed tags like 3.22-alpine',
          });
        }
        tags = [latest];
      } else {
        const order = opts.sort ?? (opts.semver ? 'semver' : undefined);
        if (order) tags = (await versions()).sortTags(tags, order, selection);
      }
      if (out.json) out.printJson(tags);
      else if (out.tty) out.table(['TAG'], tags.map((t) => [t]));
      else out.lines(tags);
    });
}

/** Version filtering and sorting, loaded when a listing asks for them: semver compiles ~40 regular expressions as it loads. */
function versions(): Promise<typeof import('../../tags/index.js')> {
  return import('../../tags/index.js');
}
