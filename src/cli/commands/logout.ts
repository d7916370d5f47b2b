import { Command } from 'commander';
import { parseRegistryHost } from '../../reference/index.js';
import type { CommandContext } from '../context.js';

export function logoutCommand(context: () => CommandContext): Command {
  return new Command('logout')
    .description('remove saved credentials for a registry (from config.json, credential helpers and the keychain)')
    .argument('[registry]', 'registry host', 'docker.io')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  gantry logout ghcr.io\n  gantry logout            # Docker Hub')
    .action(async (registryArg: string, opts: { json?: boolean }) => {
      const ctx = context();
      const out = ctx.output(opts);
      const registry = parseRegistryHost(registryArg);
      const credentials = await ctx.credentials();
      const removed = await credentials.erase(registry);
      if (out.json) out.printJson({ registry, removed });
      else if (removed) out.line(`Removing login credentials for ${registry}`);
      else out.line(`Not logged in to ${registry}`);
    });
}
