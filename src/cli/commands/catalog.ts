import { Command, InvalidArgumentError } from 'commander';
import { GantryError } from '../../errors/index.js';
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
      if (/^[^/]+\/[^/]/.test(registryArg.replace(/^https?:\/\//, ''))) {
        throw new GantryError('USAGE', `catalog lists a whole registry: give a host, not ${JSON.stringify(registryArg)}`, { hint: 'for one repository, use `gantry tags REPO`' });
      }
      const registry = parseRegistryHost(registryArg);
      const client = await ctx.client();
      const repos: string[] = [];
      const spinner = out.spinner(`Listing repositories of ${registry}`);
      try {
        for await (const page of client.catalog(registry, { signal: ctx.signal, ...(opts.pageSize ? { pageSize: opts.pageSize } : {}) })) repos.push(...page);
      } catch (err) {
        // Docker Hub, GHCR, ECR and others answer the catalog with 401/403/404 whoever asks.
        if (err instanceof GantryError && ['AUTH_REQUIRED', 'AUTH_DENIED', 'NOT_FOUND', 'UNSUPPORTED'].includes(err.code)) {
          throw new GantryError(err.code, err.message, {
            cause: err,
            hint: `${err.hint ? `${err.hint} ` : ''}Many hosted registries (Docker Hub, GHCR, ECR, GAR) do not offer the catalog API at all.`,
          });
        }
        throw err;
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
