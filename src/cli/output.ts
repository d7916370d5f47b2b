import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { Ora } from 'ora';
import type { CliIo } from './io.js';

export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  /** commander's `--no-color` sets color=false */
  color?: boolean;
}

/**
 * Renders command results. Data goes to stdout (a table or colour only on a
 * TTY, plain lines when piped, JSON with --json); progress and diagnostics go
 * to stderr, spinners only when stderr is a TTY.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly tty: boolean;
  /** Colours for stdout. */
  readonly c: ChalkInstance;
  /** Colours for stderr, which may be a TTY when stdout is not. */
  readonly ce: ChalkInstance;
  private readonly io: CliIo;

  constructor(io: CliIo, options: OutputOptions = {}) {
    this.io = io;
    this.json = options.json === true;
    this.quiet = options.quiet === true;
    this.tty = io.stdout.isTTY === true;
    // One decision for both streams: --no-color, NO_COLOR and TERM=dumb switch colour off everywhere.
    const allowed = options.color !== false && !(io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') && io.env.TERM !== 'dumb';
    const forced = io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0';
    this.c = new Chalk({ level: allowed && (this.tty || forced) ? 1 : 0 });
    this.ce = new Chalk({ level: allowed && (io.stderr.isTTY === true || forced) ? 1 : 0 });
  }

  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  lines(items: Iterable<string>): void {
    for (const item of items) this.line(item);
  }

  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A table on a TTY; tab-separated columns otherwise, so scripts can `cut`. */
  table(head: string[], rows: Array<Array<string | number>>): void {
    if (!this.tty) {
      for (const row of rows) this.line(row.map(String).join('\t'));
      return;
    }
    // Borderless, like `docker images` and `kubectl get`: columns a person can also copy from.
    const none = { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '' };
    const table = new Table({
      head: head.map((h) => this.c.bold(h)),
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 3 },
      chars: { ...none, left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '' },
    });
    for (const row of rows) table.push(row.map(String));
    this.line(table.toString().replace(/ +$/gm, ''));
  }

  /** Aligned `key: value` pairs for human summaries. */
  fields(pairs: Array<[string, string | undefined]>): void {
    const shown = pairs.filter((p): p is [string, string] => p[1] !== undefined && p[1] !== '');
    const width = Math.max(0, ...shown.map(([k]) => k.length));
    for (const [k, v] of shown) this.line(`${this.c.bold(`${k}:`.padEnd(width + 1))} ${v}`);
  }

  warn(message: string): void {
    this.io.stderr.write(`${this.ce.yellow('warning:')} ${message}\n`);
  }

  info(message: string): void {
    if (!this.quiet) this.io.stderr.write(`${message}\n`);
  }

  /**
   * A spinner on stderr when it is a TTY and output is for people; a no-op
   * otherwise. ora is loaded only then: evaluating it (its Unicode width
   * tables) costs ~16 ms, which scripts and pipes should not pay at every start.
   */
  spinner(text: string): { stop(): void } {
    // A TTY that reports no width (some CI terminals, `script` without a size) makes spinners redraw forever.
    if (this.json || this.quiet || this.io.stderr.isTTY !== true || !((this.io.stderr.columns ?? 0) > 0)) return { stop() {} };
    let stopped = false;
    let running: Ora | undefined;
    void import('ora').then(
      ({ default: ora }) => {
        if (!stopped) running = ora({ text, stream: this.io.stderr, isEnabled: true }).start();
      },
      () => undefined, // no spinner is no loss
    );
    return {
      stop: () => {
        stopped = true;
        running?.stop();
      },
    };
  }
}

/** Human-readable byte counts in binary units, as docker prints them. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
