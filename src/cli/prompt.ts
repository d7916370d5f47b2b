import { createInterface, type Interface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { GantryError } from '../errors/index.js';
import type { CliIo } from './io.js';

/**
 * One readline interface on the terminal, for one or more questions. A raw
 * TTY turns ^C into a key readline sees (not a signal), and input that ends
 * at a prompt closes readline with the question pending for ever: both are
 * turned into errors here (INTERRUPTED → 130, USAGE → 2).
 */
function createPrompter(io: CliIo, signal: AbortSignal | undefined) {
  let muted = false;
  // readline echoes through its output stream: swallow it while a secret is typed.
  const output = new Writable({
    write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
      if (!muted) io.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: io.stdin, output, terminal: true });
  const failed = new Promise<never>((_, reject) => {
    rl.once('SIGINT', () => reject(new GantryError('INTERRUPTED', 'interrupted')));
    rl.once('close', () =>
      reject(new GantryError('USAGE', 'standard input ended at a prompt', { hint: 'pipe the secret in: echo "$TOKEN" | gantry login REGISTRY -u USER --password-stdin' })),
    );
  });
  failed.catch(() => undefined);
  const question = async (text: string): Promise<string> => {
    try {
      return await Promise.race([rl.question(text, signal ? { signal } : {}), failed]);
    } catch (err) {
      const interrupted = (err as Error).name === 'AbortError' || (err instanceof GantryError && err.code === 'INTERRUPTED');
      // Ctrl-C left the cursor after the question: the error message starts a line of its own
      // (a secret's prompt ends its line itself).
      if (interrupted && !muted) io.stderr.write('\n');
      if ((err as Error).name === 'AbortError') throw new GantryError('INTERRUPTED', 'interrupted', { cause: err });
      throw err;
    }
  };
  return {
    question,
    /** Show the prompt, then mute before readline reads a single key of the secret. */
    async secret(text: string): Promise<string> {
      io.stderr.write(text);
      muted = true;
      try {
        return await question('');
      } finally {
        muted = false;
        io.stderr.write('\n');
      }
    },
    close: () => rl.close(),
  };
}

/** Ask a question on the terminal; the answer is echoed. */
export async function promptLine(io: CliIo, text: string, signal?: AbortSignal): Promise<string> {
  const prompter = createPrompter(io, signal);
  try {
    return await prompter.question(text);
  } finally {
    prompter.close();
  }
}

/**
 * Ask for what is missing of a login on ONE interface: the user name echoed,
 * the password not. A second interface would lose input the first one had
 * already buffered.
 */
export async function promptLogin(io: CliIo, known: { username?: string | undefined }, signal?: AbortSignal): Promise<{ username: string; password: string }> {
  const prompter = createPrompter(io, signal);
  try {
    const username = known.username ?? (await prompter.question('Username: ')).trim();
    const password = await prompter.secret('Password: ');
    return { username, password };
  } finally {
    prompter.close();
  }
}

/**
 * Read all of stdin (for --password-stdin), trimming the trailing newline as
 * docker does. Ctrl-C stops the wait even while the writer keeps stdin open.
 */
export async function readStdin(io: CliIo, options: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<string> {
  const maxBytes = options.maxBytes ?? 64 * 1024;
  const chunks: Buffer[] = [];
  let size = 0;
  const read = (async () => {
    for await (const chunk of io.stdin) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      if (size > maxBytes) throw new GantryError('USAGE', `standard input is larger than ${maxBytes} bytes; expected a password or token`);
      chunks.push(buf);
    }
  })();
  const signal = options.signal;
  if (signal) {
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new GantryError('INTERRUPTED', 'interrupted'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    // If Ctrl-C wins the race, a later failure of the abandoned read has nobody to report to.
    read.catch(() => undefined);
    try {
      await Promise.race([read, aborted]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
      io.stdin.pause();
    }
  } else {
    await read;
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
