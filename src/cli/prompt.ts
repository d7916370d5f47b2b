import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { GantryError } from '../errors/index.js';
import type { CliIo } from './io.js';

/** Ask a question on the terminal; the answer is echoed. */
export async function promptLine(io: CliIo, question: string, signal?: AbortSignal): Promise<string> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  try {
    return await rl.question(question, signal ? { signal } : {});
  } finally {
    rl.close();
  }
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
  try {
    const answer = rl.question(question, signal ? { signal } : {});
    muted = true;
    return await answer;
  } finally {
    muted = false;
    rl.close();
    io.stderr.write('\n');
  }
}

/** Read all of stdin (for --password-stdin), trimming the trailing newline as docker does. */
export async function readStdin(io: CliIo, maxBytes = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > maxBytes) throw new GantryError('USAGE', `standard input is larger than ${maxBytes} bytes; expected a password or token`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
