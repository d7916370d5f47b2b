import { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { TagOptions } from './tag-action.js';

export function tagCommand(context: () => CommandContext): Command {
  return new Command('tag')
    .description('add tags to an image without moving layers: the same manifest under new names')
    .argument('<source>', 'the image: NAME[:TAG|@DIGEST] (the tag defaults to latest)')
    .argument('[target...]', "new tags: a tag name (v2) in the source's repository, or a full reference in the same registry")
    .option('--local', "tag in gantry's local store instead of a registry (docker tag)")
    .option('--semver-aliases', 'from a MAJOR.MINOR.PATCH tag also write MAJOR.MINOR, MAJOR and latest, each only when it is the highest release of its line')
    .option('--dry-run', 'show which tags would be created or moved (from digest → to digest), and write nothing')
    .option('--json', 'print {"source","digest","mediaType","dryRun","copied","tags","held"}')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  gantry tag registry.example.com/app:build-812 v1.4.2 stable\n' +
        '  gantry tag --semver-aliases registry.example.com/app:build-812 v1.4.2\n' +
        '  gantry tag --semver-aliases --dry-run localhost:5000/app:1.1.9\n' +
        '  gantry tag localhost:5000/team/app:1.2 localhost:5000/release/app:1.2\n' +
        '  gantry tag --local myapp:dev myapp:1.0 registry.example.com/myapp:1.0',
    )
    // The implementation (and semver, for --semver-aliases) loads when the command runs, not at every start.
    .action(async (sourceArg: string, targetArgs: string[], opts: TagOptions) => (await import('./tag-action.js')).tagAction(context(), sourceArg, targetArgs, opts));
}
