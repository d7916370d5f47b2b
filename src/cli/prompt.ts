import { createInterface, type Interface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { GantryError } from '../errors/index.js';
import type { CliIo } from './io.js';

/**
 * Ask on a terminal. A raw-mode TTY turns ^C into readline's AbortError, not
 * a SIGINT, so it is mapped to INTERRUPTED here (exit 130) like any Ctrl-C.
 */
async function ask(rl: Interface, question: string, signal?: AbortSignal): Promise<string> {
  try {
    return await rl.question(question, signal ? { signal } : {});
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw new GantryError('INTERRUPTED', 'interrupted', { cause: err });
    throw err;
  } finally {
    rl.close();
  }
}

/** Ask a question on the terminal; the answer is echoed. */
export function promptLine(io: CliIo, question: string, signal?: AbortSignal): Promise<string> {
  return ask(createInterface({ input: io.stdin, output: io.stderr, terminal: true }), question, signal);
}

/** Ask for a secret on the terminal without echoing it. */
export async function promptSecret(io: CliIo, question: string, signal?: AbortSignal): Promise<string> {
  let muted = false;
  // readline echoes through its output stream: swallow everything after the question.
  const output = new Writable({
    write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
      if (!muted) io.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: io.stdin, output, terminal: true });
  const answer = ask(rl, question, signal);
  muted = true;
  try {
    return await answer;
  } finally {
    io.stderr.write('\n');
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
