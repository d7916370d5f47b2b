import { spawn } from 'node:child_process';
import { GantryError } from '../errors/index.js';
import { redactSecrets } from '../internal/redact.js';

/** The verbs of the docker-credential-helpers protocol. */
export type HelperAction = 'get' | 'store' | 'erase' | 'list';

export interface RunHelperOptions {
  /** The helper's suffix: `pass` runs `docker-credential-pass`. */
  helper: string;
  action: HelperAction;
  /** Written to the helper's stdin, then stdin is closed. */
  input: string;
  /** The helper's environment; its PATH is where the program is looked up. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Kill the helper after this long. Default 10 s. */
  timeoutMs?: number;
  /** Strings never to show in an error message (what was sent on stdin). */
  secrets?: readonly (string | undefined)[];
}

export interface HelperOutput {
  /** The helper's exit status (null when it died of a signal). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

const MAX_STDOUT_BYTES = 1024 * 1024;
const MAX_STDERR_BYTES = 16 * 1024;
const MAX_MESSAGE_CHARS = 300;

/** The program name for a helper suffix. */
export function helperProgram(helper: string): string {
  return `docker-credential-${helper}`;
}

/**
 * Run `docker-credential-<helper> <action>` without a shell, feed it `input`
 * and collect its output. Resolves with the exit status and output whatever
 * the status (the caller knows which failures mean "not found"). Rejects with
 * GantryError CREDENTIAL_HELPER_FAILED when the program cannot be started
 * (hint names the program and the config keys that select it), runs past
 * `timeoutMs` (it is killed), or prints more than 1 MiB. Captured stderr is
 * bounded to 16 KiB.
 */
export function runCredentialHelper(options: RunHelperOptions): Promise<HelperOutput> {
  const program = helperProgram(options.helper);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    let settled = false;
    const child = spawn(program, [options.action], {
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;

    const finish = (outcome: { error: GantryError } | { output: HelperOutput }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if ('error' in outcome) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        // A grandchild may hold the pipes open; do not wait for them to close.
        child.stdout.destroy();
        child.stderr.destroy();
        reject(outcome.error);
      } else {
        resolve(outcome.output);
      }
    };
    const fail = (what: string, hint: string, cause?: unknown): void => {
      const detail = describeOutput(Buffer.concat(stderr).toString('utf8'), options.secrets);
      finish({
        error: new GantryError('CREDENTIAL_HELPER_FAILED', `${program} ${options.action} ${what}${detail ? `: ${detail}` : ''}`, {
          hint,
          cause,
          details: { helper: program, action: options.action },
        }),
      });
    };

    const timer = setTimeout(() => {
      fail(`did not finish within ${timeoutMs} ms and was killed`, `The helper may be waiting for a locked keychain or a prompt; check that \`${program} ${options.action}\` works in a terminal.`);
    }, timeoutMs);

    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        fail(
          'cannot run: the program is not on PATH',
          `Install ${program}, or remove "${options.helper}" from "credsStore"/"credHelpers" in docker's config.json.`,
          err,
        );
      } else {
        fail(`cannot run (${err.code ?? err.message})`, `Check that ${program} is an executable program.`, err);
      }
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_STDOUT_BYTES) {
        fail(`printed more than ${MAX_STDOUT_BYTES} bytes`, `Check that ${program} is a docker credential helper.`);
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderrBytes >= MAX_STDERR_BYTES) return;
      const kept = chunk.subarray(0, MAX_STDERR_BYTES - stderrBytes);
      stderrBytes += kept.length;
      stderr.push(kept);
    });
    child.stdin.on('error', (err: NodeJS.ErrnoException) => {
      // EPIPE: the helper exited without reading its input; its exit status tells what happened.
      if (err.code !== 'EPIPE') fail(`could not be given its input (${err.code ?? err.message})`, `Check that ${program} works in a terminal.`, err);
    });
    child.on('close', (exitCode) => {
      finish({
        output: { exitCode, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') },
      });
    });
    child.stdin.end(options.input);
  });
}

/**
 * Helper output fit for an error message: redacted, one line, bounded.
 * docker-credential-helpers print their errors on stdout, others on stderr.
 */
export function describeOutput(text: string, secrets: readonly (string | undefined)[] = []): string {
  const line = redactSecrets(text, secrets).replace(/\s+/g, ' ').trim();
  return line.length > MAX_MESSAGE_CHARS ? `${line.slice(0, MAX_MESSAGE_CHARS)}…` : line;
}
