import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Output, formatBytes } from '../../src/cli/output.js';
import type { CliIo } from '../../src/cli/io.js';

function io(tty: boolean, env: NodeJS.ProcessEnv = {}): { io: CliIo; out: () => string } {
  const stdout = new PassThrough() as PassThrough & { isTTY?: boolean };
  const stderr = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (tty) stdout.isTTY = stderr.isTTY = true;
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  return { io: { stdout, stderr, stdin: new PassThrough(), env }, out: () => Buffer.concat(chunks).toString() };
}

describe('Output', () => {
  it('prints borderless aligned tables on a TTY, without colour under NO_COLOR', () => {
    const t = io(true, { NO_COLOR: '1' });
    new Output(t.io).table(['NAME', 'SIZE'], [['alpine', '3.4 MiB'], ['a-much-longer-name', '1 B']]);
    expect(t.out()).toBe('NAME                 SIZE\nalpine               3.4 MiB\na-much-longer-name   1 B\n');
  });

  it('prints tab-separated rows when piped, for cut and awk', () => {
    const t = io(false);
    new Output(t.io).table(['NAME', 'SIZE'], [['alpine', 1]]);
    expect(t.out()).toBe('alpine\t1\n');
  });

  it('uses colour only on a TTY and honours --no-color, NO_COLOR and TERM=dumb on both streams', () => {
    expect(new Output(io(true).io).c.level).toBeGreaterThan(0);
    expect(new Output(io(true).io).ce.level).toBeGreaterThan(0);
    expect(new Output(io(false).io).c.level).toBe(0);
    for (const off of [new Output(io(true).io, { color: false }), new Output(io(true, { NO_COLOR: '1' }).io), new Output(io(true, { TERM: 'dumb' }).io)]) {
      expect(off.c.level).toBe(0);
      expect(off.ce.level).toBe(0);
    }
  });

  it('never spins on a TTY that reports no width (it would redraw forever)', () => {
    const t = io(true);
    (t.io.stderr as { columns?: number }).columns = 0;
    const errChunks: Buffer[] = [];
    t.io.stderr.on('data', (c: Buffer) => errChunks.push(c));
    new Output(t.io).spinner('working').stop();
    expect(Buffer.concat(errChunks).length).toBe(0);
  });

  it('never starts a spinner when stderr is not a TTY or output is JSON', () => {
    const t = io(false);
    const errChunks: Buffer[] = [];
    t.io.stderr.on('data', (c: Buffer) => errChunks.push(c));
    new Output(t.io).spinner('working').stop();
    const tty = io(true);
    tty.io.stderr.on('data', (c: Buffer) => errChunks.push(c));
    new Output(tty.io, { json: true }).spinner('working').stop();
    new Output(tty.io, { quiet: true }).spinner('working').stop();
    expect(Buffer.concat(errChunks).length).toBe(0);
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(64 * 1024 * 1024)).toBe('64.0 MiB');
  });
});
