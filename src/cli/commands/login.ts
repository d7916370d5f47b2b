import { Command, Option } from 'commander';
import { GantryError } from '../../errors/index.js';
import { parseRegistryHost } from '../../reference/index.js';
import type { CommandContext } from '../context.js';
import { promptLine, promptLogin, readStdin } from '../prompt.js';
import { saveSetting } from '../settings.js';

interface LoginOptions {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  store?: 'auto' | 'file' | 'keychain';
  json?: boolean;
}

export function loginCommand(context: () => CommandContext): Command {
  return new Command('login')
    .description('log in to a registry: verify the credentials, then save them as docker does')
    .argument('[registry]', 'registry host', 'docker.io')
    .option('-u, --username <user>', 'user name')
    .option('-p, --password <password>', 'password or token (insecure: visible to other users; prefer --password-stdin)')
    .option('--password-stdin', 'read the password or token from standard input')
    .addOption(
      new Option('--store <where>', 'where to save: auto (docker’s credsStore/credHelpers, else config.json), file, keychain').choices([
        'auto',
        'file',
        'keychain',
      ]),
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  echo "$TOKEN" | gantry login ghcr.io -u USER --password-stdin\n' +
        '  gantry login registry.example.com:5000 -u admin     # prompts for the password on a terminal\n' +
        '  gantry login --store keychain quay.io -u USER --password-stdin < token.txt',
    )
    .action(async (registryArg: string, opts: LoginOptions) => {
      const ctx = context();
      const out = ctx.output(opts);
      const registry = parseRegistryHost(registryArg);
      if (opts.password !== undefined && opts.passwordStdin) {
        throw new GantryError('USAGE', '--password and --password-stdin are mutually exclusive');
      }
      let username = opts.username;
      let password = opts.password;
      if (password !== undefined) out.warn('using --password on the command line is insecure: use --password-stdin');
      if (opts.passwordStdin) {
        if (!username) throw new GantryError('USAGE', '--password-stdin needs --username', { hint: 'echo "$TOKEN" | gantry login REGISTRY -u USER --password-stdin' });
        password = await readStdin(ctx.io, { signal: ctx.signal });
      }
      if (!username || password === undefined) {
        if (ctx.io.stdin.isTTY !== true) {
          throw new GantryError('USAGE', `no ${username ? 'password' : 'username'} given and standard input is not a terminal`, {
            hint: 'pipe the secret in: echo "$TOKEN" | gantry login REGISTRY -u USER --password-stdin',
          });
        }
        if (password === undefined) ({ username, password } = await promptLogin(ctx.io, { username }, ctx.signal));
        else username = (await promptLine(ctx.io, 'Username: ', ctx.signal)).trim();
      }
      if (!username || !password) throw new GantryError('USAGE', 'the username and password must not be empty');

      const spinner = out.spinner(`Logging in to ${registry}`);
      try {
        const client = await ctx.client();
        await client.verifyCredential(registry, { username, password }, { signal: ctx.signal });
      } finally {
        spinner.stop();
      }
      const settings = await ctx.settings();
      const store = opts.store ?? settings.credentialsStore;
      const credentials = await ctx.credentials({ keychain: store === 'keychain' });
      await credentials.store(registry, { username, password }, { store });
      const target = await credentials.targetFor(registry, store);
      if (opts.store && opts.store !== settings.credentialsStore && (opts.store === 'keychain' || settings.credentialsStore === 'keychain')) {
        // Whether later commands look in the keychain follows the last explicit choice.
        const path = await saveSetting(ctx.io.env, 'credentials-store', opts.store);
        out.info(`gantry now keeps credentials ${opts.store === 'keychain' ? 'in the OS keychain' : 'where docker does'} (credentials-store in ${path})`);
      }
      const winner = await credentials.targetFor(registry, 'auto');
      if (target.store !== 'keychain' && winner.from !== target.from) {
        out.warn(`docker's config.json sends ${registry} to ${winner.from}, which later commands ask before ${target.from}; log in with --store auto to update it instead`);
      }
      if (out.json) out.printJson({ registry, username, store: target.store, location: target.from });
      else out.line(`Login Succeeded (credentials for ${registry} saved in ${target.from})`);
    });
}
