import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { promptLine } from '../../src/cli/prompt.js';
import type { CliIo } from '../../src/cli/io.js';

function ttyIo(): { io: CliIo; stdin: PassThrough; stderr: () => string } {
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean; setRawMode?: (m: boolean) => unknown };
  stdin.isTTY = true;
  stdin.setRawMode = () => stdin;
  const stdout = new PassThrough() as PassThrough & { isTTY?: boolean };
  const stderr = new PassThrough() as PassThrough & { isTTY?: boolean };
  const chunks: Buffer[] = [];
  stderr.on('data', (c: Buffer) => chunks.push(c));
  stdout.resume();
  return { io: { stdin, stdout, stderr, env: { HOME: '/nonexistent' } }, stdin, stderr: () => Buffer.concat(chunks).toString() };
}

describe('Ctrl-C', () => {
  it('at the password prompt exits 130 and says interrupted, not "bug in gantry"', async () => {
    const t = ttyIo();
    const run = main(['login', '127.0.0.1:1', '-u', 'bob'], { io: t.io, signal: new AbortController().signal });
    setTimeout(() => t.stdin.write('\x03'), 50);
    expect(await run).toBe(130);
    expect(t.stderr()).toMatch(/interrupted/);
    expect(t.stderr()).not.toMatch(/bug in gantry/);
  });

  it('at a yes/no question ends the question line, so the error starts a line of its own', async () => {
    const t = ttyIo();
    const asked = promptLine(t.io, 'Delete it? [y/N] ');
    setTimeout(() => t.stdin.write('\x03'), 50);
    await expect(asked).rejects.toMatchObject({ code: 'INTERRUPTED' });
    // readline may add cursor moves after the question; then the line ends.
    expect(t.stderr()).toMatch(/Delete it\? \[y\/N\] [^\n]*\n$/);
  });

  it('at the password prompt ends the line once', async () => {
    const t = ttyIo();
    const run = main(['login', '127.0.0.1:1', '-u', 'bob'], { io: t.io, signal: new AbortController().signal });
    setTimeout(() => t.stdin.write('\x03'), 50);
    expect(await run).toBe(130);
    expect(t.stderr()).toMatch(/Password: \nerror: interrupted\n$/);
  });

  it('with --json reports the interruption as the JSON error line every failure gets', async () => {
    const t = ttyIo();
    (t.stdin as { isTTY?: boolean }).isTTY = false;
    const controller = new AbortController();
    const run = main(['login', '127.0.0.1:1', '-u', 'bob', '--password-stdin', '--json'], { io: t.io, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await run).toBe(130);
    expect(JSON.parse(t.stderr())).toEqual({ error: { code: 'INTERRUPTED', message: 'interrupted' } });
  });

  it('while waiting on --password-stdin exits 130 although the writer keeps stdin open', async () => {
    const t = ttyIo();
    (t.stdin as { isTTY?: boolean }).isTTY = false;
    const controller = new AbortController();
    const run = main(['login', '127.0.0.1:1', '-u', 'bob', '--password-stdin'], { io: t.io, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await run).toBe(130);
  });
});
