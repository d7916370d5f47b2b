import { GantryError } from '../errors/index.js';
import { parseJson } from '../internal/parse-json.js';
import { describeOutput, helperProgram, runCredentialHelper, type HelperAction, type HelperOutput } from './helper-process.js';
import { serverAddress } from './registry-key.js';
import type { Credential, CredentialStore } from './types.js';

export interface HelperStoreOptions {
  /** The helper's suffix, as in config.json's `credsStore`/`credHelpers`: `pass`, `desktop`, `ecr-login`. */
  helper: string;
  /** Environment for the helper (and for finding it on PATH). Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Per-call time limit. Default 10 s. */
  timeoutMs?: number;
}

/** A `docker-credential-*` program as a credential store. */
export interface HelperStore extends CredentialStore {
  /** `docker-credential-<helper>`. */
  readonly program: string;
  store(host: string, credential: Credential): Promise<void>;
  erase(host: string): Promise<boolean>;
  /** The helper's `list`: server URL → username. */
  list(): Promise<Record<string, string>>;
}

/** The message every docker-credential-helpers program prints for a missing entry (credentials.ErrCredentialsNotFound). */
const NOT_FOUND_MESSAGE = 'credentials not found in native keychain';

/** docker's helpers file an identity token under this username. */
const TOKEN_USERNAME = '<token>';

/**
 * A credential store backed by a docker credential helper, speaking the
 * docker-credential-helpers protocol: `get`/`erase` take the server URL on
 * stdin (`https://index.docker.io/v1/` for Docker Hub, else the bare host, as
 * docker passes it), `store` takes `{ServerURL, Username, Secret}` JSON, `get`
 * prints the same JSON. A helper's "credentials not found in native keychain"
 * is "nothing here" (`get` resolves undefined, `erase` false); every other
 * failure rejects with GantryError CREDENTIAL_HELPER_FAILED carrying the
 * helper's redacted, bounded output and a hint. Never resolves anonymous
 * because a helper failed.
 */
export function createHelperStore(options: HelperStoreOptions): HelperStore {
  const program = helperProgram(options.helper);
  const run = (action: HelperAction, input: string, secrets: readonly (string | undefined)[] = []): Promise<HelperOutput> =>
    runCredentialHelper({ helper: options.helper, action, input, env: options.env, timeoutMs: options.timeoutMs, secrets });

  const failed = (action: HelperAction, output: HelperOutput, secrets: readonly (string | undefined)[] = []): GantryError => {
    const said = describeFailure(output, secrets);
    const status = output.exitCode === null ? 'was killed by a signal' : `exited with status ${output.exitCode}`;
    return new GantryError('CREDENTIAL_HELPER_FAILED', `${program} ${action} ${status}${said ? `: ${said}` : ''}`, {
      hint: `Check that \`${program} ${action}\` works in a terminal (is its keychain unlocked?).`,
      details: { helper: program, action, exitCode: output.exitCode },
    });
  };
  const notFound = (output: HelperOutput): boolean => `${output.stdout}\n${output.stderr}`.includes(NOT_FOUND_MESSAGE);

  return {
    name: program,
    program,
    async get(host) {
      const output = await run('get', serverAddress(host));
      if (output.exitCode !== 0) {
        if (notFound(output)) return undefined;
        throw failed('get', output);
      }
      const credential = parseGetOutput(output.stdout, program);
      return credential ? { credential, from: program } : undefined;
    },
    async store(host, credential) {
      if (credential.registryToken && !credential.password && !credential.identityToken) {
        throw new GantryError('UNSUPPORTED', `${program} cannot hold a registry token`, {
          hint: 'Store it in config.json instead (`--store file`).',
        });
      }
      const payload = credential.identityToken
        ? { ServerURL: serverAddress(host), Username: TOKEN_USERNAME, Secret: credential.identityToken }
        : { ServerURL: serverAddress(host), Username: credential.username ?? '', Secret: credential.password ?? '' };
      const secrets = [credential.password, credential.identityToken];
      const output = await run('store', JSON.stringify(payload), secrets);
      if (output.exitCode !== 0) throw failed('store', output, secrets);
    },
    async erase(host) {
      const output = await run('erase', serverAddress(host));
      if (output.exitCode === 0) return true;
      if (notFound(output)) return false;
      throw failed('erase', output);
    },
    async list() {
      // docker's client sends a placeholder: the protocol wants something on stdin.
      const output = await run('list', 'unused');
      if (output.exitCode !== 0) throw failed('list', output);
      const parsed = parseJson(output.stdout).value;
      if (!isStringRecord(parsed)) throw badOutput(program, 'list');
      return parsed;
    },
  };
}

/** A `"Secret": "…"` member, complete or cut off, in a helper's printed JSON. */
const SECRET_MEMBER = /"Secret"\s*:\s*"((?:[^"\\]|\\.)*)/gi;

/**
 * A failed helper's output, fit for the error message. docker-credential-helpers
 * print their errors as plain text on stdout, so stdout is normally shown. But
 * a `get` may print the protocol's JSON, credential included, and still exit
 * non-zero: stdout that looks like JSON or names a "Secret" is left out, and
 * any secret it held is redacted from stderr too.
 */
function describeFailure(output: HelperOutput, secrets: readonly (string | undefined)[]): string {
  const stdout = output.stdout.trim();
  if (!stdout.startsWith('{') && !/"Secret"/i.test(stdout)) return describeOutput(`${stdout} ${output.stderr}`, secrets);
  const printed = [...stdout.matchAll(SECRET_MEMBER)].flatMap((m) => [m[1], unescapeJsonString(m[1] ?? '')]);
  const stderr = describeOutput(output.stderr, [...secrets, ...printed]);
  return `${stderr ? `${stderr} ` : ''}(its output on stdout is not shown: it may hold a credential)`;
}

/** `a\"b` → `a"b`; a string cut off mid-escape stays as it is. */
function unescapeJsonString(escaped: string): string {
  const decoded = parseJson(`"${escaped}"`).value;
  return typeof decoded === 'string' ? decoded : escaped;
}

/** The credential in a helper's `get` output; undefined when both fields are empty. */
function parseGetOutput(stdout: string, program: string): Credential | undefined {
  const parsed = parseJson(stdout).value;
  if (typeof parsed !== 'object' || parsed === null) throw badOutput(program, 'get');
  const { Username: username = '', Secret: secret = '' } = parsed as Record<string, unknown>;
  if (typeof username !== 'string' || typeof secret !== 'string') throw badOutput(program, 'get');
  if (username === '' && secret === '') return undefined;
  if (username === TOKEN_USERNAME) return { identityToken: secret };
  return { username, password: secret };
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

/** The output is not shown: a half-broken `get` may still have printed a secret. */
function badOutput(program: string, action: HelperAction): GantryError {
  return new GantryError('CREDENTIAL_HELPER_FAILED', `${program} ${action} printed output that is not the protocol's JSON`, {
    hint: `Check that ${program} is a docker credential helper and works in a terminal.`,
    details: { helper: program, action },
  });
}
