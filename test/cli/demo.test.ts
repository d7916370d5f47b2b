import { spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandLine } from '../../src/cli/demo/demo-steps.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// `gantry demo` (and `npm start` without arguments) against the real
// distribution registry: every step succeeds, and nothing is left behind —
// no registry process, no temporary directory, nothing in the user's home —
// when it ends, when it cannot start, and when Ctrl-C stops it.

const START = fileURLToPath(new URL('../../scripts/start.mjs', import.meta.url));

let work: string;
let tmp: string;
let home: string;

beforeEach(async () => {
  work = await makeTempDir('demo-test');
  // The demo makes its directory under $TMPDIR: one of our own, to see it go.
  tmp = join(work, 'tmp');
  home = join(work, 'home');
  await Promise.all([mkdir(tmp), mkdir(home)]);
});

afterEach(async () => {
  await removeTempDir(work);
});

/** PIDs of docker-registry processes whose command line names a path under `dir`. */
function registriesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch (err) {
      // The process ended between the listing and the read.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') continue;
      throw err;
    }
    if (cmdline.includes('docker-registry') && cmdline.includes(dir)) pids.push(Number(entry));
  }
  return pids;
}

/** True when something accepts TCP connections at `host:port`. */
function listening(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = connect({ host: host as string, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function expectNothingLeft(): Promise<void> {
  expect(await readdir(tmp)).toEqual([]);
  expect(registriesUnder(tmp)).toEqual([]);
  // Not the user's docker config, nor gantry's store or state.
  expect(await readdir(home)).toEqual([]);
}

describe('gantry demo', () => {
  it('pushes, lists tags, copies, re-pushes, pulls, lists images, tags, saves and removes, then cleans up', async () => {
    const r = await runCli(['demo'], { env: { TMPDIR: tmp, HOME: home } });
    expect(r.stderr).not.toMatch(/error|warning|\(node:/i);
    expect(r.code).toBe(0);

    const registry = /registry\s+(127\.0\.0\.1:\d+)/.exec(r.stdout)?.[1] as string;
    expect(registry).toMatch(/^127\.0\.0\.1:\d+$/);
    const demo = `${registry}/demo/hello`;
    const team = `${registry}/team/hello`;
    // Each command is shown as typed, then its real output.
    const lines = r.stdout.split('\n');
    const commands = lines.filter((l) => l.startsWith('$ gantry '));
    expect(commands.map((c) => c.split(' ').slice(1, 3).join(' '))).toEqual([
      'gantry push',
      'gantry tags',
      'gantry copy',
      'gantry push',
      'gantry pull',
      'gantry images',
      'gantry tag',
      'gantry tags',
      'gantry copy',
      'gantry rmi',
    ]);
    const outputOf = (command: string): string => {
      const start = lines.indexOf(command);
      expect(start, `${command} was not shown`).toBeGreaterThanOrEqual(0);
      const end = lines.findIndex((l, i) => i > start && (l.startsWith('# ') || l.startsWith('All ')));
      return lines.slice(start + 1, end).join('\n');
    };
    expect(outputOf(`$ gantry tags ${demo}`).split('\n').filter(Boolean).sort()).toEqual(['1.0', 'latest']);
    expect(outputOf('$ gantry images')).toMatch(new RegExp(`^${team}\\t1\\.0\\tsha256:[0-9a-f]{64}\\tlinux/amd64,linux/arm64/v8\\t`));
    const tagged = outputOf(`$ gantry tag --semver-aliases ${team}:1.0 1.0.0`);
    // Each tag named whole (not `1` found inside `1.0.0`), whatever words the tag command puts around it.
    const escaped = team.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const tag of ['1.0.0', '1', 'latest']) expect(tagged).toMatch(new RegExp(`${escaped}:${tag.replace(/\./g, '\\.')}(?![\\w.-])`));
    expect(outputOf(`$ gantry tags ${team}`).split('\n').filter(Boolean).sort()).toEqual(['1', '1.0', '1.0.0', 'latest']);
    expect(outputOf(`$ gantry rmi ${team}:1.0`)).toMatch(/^Untagged: .*\nDeleted: sha256:[0-9a-f]{64} \(8 blobs/);
    expect(r.stdout).toMatch(/All 10 commands worked\. The registry is stopped and .* is removed\./);

    // The transfers' progress: five blobs pushed, mounted, found, pulled; three saved.
    const count = (re: RegExp): number => r.stderr.split('\n').filter((l) => re.test(l)).length;
    expect(count(/^[0-9a-f]{12}: pushed /)).toBe(5);
    expect(count(/^[0-9a-f]{12}: mounted from demo\/hello$/)).toBe(5);
    expect(count(/^[0-9a-f]{12}: already exists$/)).toBe(5);
    expect(count(/^[0-9a-f]{12}: pull complete /)).toBe(5);
    expect(count(/^[0-9a-f]{12}: copied /)).toBe(3);

    expect(await listening(registry)).toBe(false);
    await expectNothingLeft();
  });

  it('without docker-registry on PATH, prints the install command, exits 4 and leaves nothing behind', async () => {
    const emptyPath = join(work, 'bin');
    await mkdir(emptyPath);
    const r = await runCli(['demo'], { env: { TMPDIR: tmp, HOME: home, PATH: emptyPath } });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/docker-registry .*is not on PATH/);
    expect(r.stderr).toMatch(/^hint: install it with: (sudo )?apt-get update && (sudo )?apt-get install -y docker-registry$/m);
    await expectNothingLeft();
  });

  it('shows command lines a POSIX shell reads back as the same words', () => {
    expect(commandLine(['push', 'oci:/tmp/a b:1.0', "it's", '127.0.0.1:5000/x:1'])).toBe(
      `gantry push 'oci:/tmp/a b:1.0' 'it'\\''s' 127.0.0.1:5000/x:1`,
    );
  });
});

describe('npm start (scripts/start.mjs)', () => {
  // As `npm start` runs it: npm has already run the set-up as `prestart` (here vitest's global set-up built dist/).
  const envFor = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, TMPDIR: tmp, HOME: home, npm_lifecycle_event: 'start', ...extra });

  function start(args: string[], options: { detached?: boolean } = {}) {
    const child = spawn(process.execPath, [START, ...args], { env: envFor(), stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached === true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, output: () => ({ stdout, stderr }) };
  }

  it('with arguments runs gantry with them, exit code included', async () => {
    const ok = start(['ref', '--json', 'alpine']);
    expect(await ok.exited).toBe(0);
    expect(JSON.parse(ok.output().stdout)).toEqual({ registry: 'docker.io', repository: 'library/alpine', tag: null, digest: null });
    const bad = start(['ref', 'Bad/Name']);
    expect(await bad.exited).toBe(2);
    expect(bad.output().stderr).toMatch(/must be lowercase/);
  });

  it('without arguments runs the demo; Ctrl-C in the middle exits 130 and still cleans up', async () => {
    // detached: its own process group, which the test signals as a terminal's Ctrl-C does.
    const run = start([], { detached: true });
    const deadline = Date.now() + 30_000;
    while (!run.output().stdout.includes('$ gantry push') && Date.now() < deadline && run.child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(run.output().stdout).toContain('$ gantry push');
    process.kill(-(run.child.pid as number), 'SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.output().stdout).not.toMatch(/commands worked/);
    expect(run.output().stderr).toMatch(/demo: interrupted; stopping the registry and removing /);
    expect(run.output().stderr).toMatch(/^error: interrupted$/m);
    await expectNothingLeft();
  });
});
