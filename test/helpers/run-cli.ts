import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as raw bytes, for --raw output. */
  stdoutBytes: Buffer;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  /** Pretend stdout/stderr/stdin are terminals. */
  tty?: boolean;
  signal?: AbortSignal;
}

function capture(tty: boolean): { stream: PassThrough & { isTTY?: boolean; columns?: number }; chunks: Buffer[] } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  if (tty) {
    // Enough of tty.WriteStream for spinners and tables.
    Object.assign(stream, {
      isTTY: true,
      columns: 120,
      rows: 40,
      cursorTo: (_x: number, _y?: number | (() => void), cb?: () => void) => (typeof _y === 'function' ? _y() : cb?.(), true),
      moveCursor: (_dx: number, _dy: number, cb?: () => void) => (cb?.(), true),
      clearLine: (_dir: number, cb?: () => void) => (cb?.(), true),
      clearScreenDown: (cb?: () => void) => (cb?.(), true),
      getColorDepth: () => 8,
      hasColors: () => true,
    });
  }
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, chunks };
}

/**
 * Run gantry in-process, as users run it, with captured output. The
 * environment is exactly `env` (plus PATH), so a test never reads the real
 * ~/.docker/config.json.
 */
export async function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const out = capture(options.tty === true);
  const err = capture(options.tty === true);
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]) as Readable & { isTTY?: boolean };
  if (options.tty) stdin.isTTY = true;
  const io: CliIo = { stdout: out.stream, stderr: err.stream, stdin, env: { PATH: process.env.PATH, ...options.env } };
  const code = await main(args, { io, signal: options.signal ?? new AbortController().signal });
  out.stream.end();
  err.stream.end();
  const stdoutBytes = Buffer.concat(out.chunks);
  return { code, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err.chunks).toString('utf8'), stdoutBytes };
}

const BIN = fileURLToPath(new URL('../../bin/gantry.js', import.meta.url));

/** Run the built executable as a child process (needs `npm run build`). */
export function runBin(args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH, ...options.env }, timeout: options.timeoutMs ?? 30_000, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8'), stdoutBytes: stdout });
      },
    );
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    else child.stdin?.end();
  });
}

/** How a started executable ended. */
export interface BinExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

const started = new Set<ChildProcess>();

/**
 * Start the built executable with exactly `env` (plus PATH) and leave it
 * running, for tests that signal or kill it mid-transfer. `stopStartedBins`
 * (in afterAll) kills whatever a test left running.
 */
export function startBin(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; exited: Promise<BinExit> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  started.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<BinExit>((resolve) => {
    child.once('close', (code, signal) => {
      started.delete(child);
      resolve({ code, signal, stderr });
    });
  });
  return { child, exited };
}

/** Kill every executable `startBin` started that is still running. */
export function stopStartedBins(): void {
  for (const child of started) child.kill('SIGKILL');
}
