import { Command, InvalidArgumentError } from 'commander';
import { parseRegistryHost } from '../../reference/index.js';
import type { CommandContext } from '../context.js';

export function catalogCommand(context: () => CommandContext): Command {
  return new Command('catalog')
    .description('list the repositories of a registry (all pages; many hosted registries disable this)')
    .argument('<registry>', 'registry host, e.g. localhost:5000')
    .option('-n, --page-size <n>', 'repositories per request', parsePositive)
    .option('--json', 'print a JSON array of strings')
    .addHelpText('after', '\nExamples:\n  gantry catalog localhost:5000\n  gantry catalog registry.example.com --json | jq length')
    .action(async (registryArg: string, opts: { pageSize?: number; json?: boolean }) => {
      const ctx = context();
      const out = ctx.output(opts);
      const registry = parseRegistryHost(registryArg);
      const client = await ctx.client();
      const repos: string[] = [];
      const spinner = out.spinner(`Listing repositories of ${registry}`);
      try {
        for await (const page of client.catalog(registry, { signal: ctx.signal, ...(opts.pageSize ? { pageSize: opts.pageSize } : {}) })) repos.push(...page);
      } finally {
        spinner.stop();
      }
      if (out.json) out.printJson(repos);
      else if (out.tty) out.table(['REPOSITORY'], repos.map((r) => [r]));
      else out.lines(repos);
    });
}

export function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}
