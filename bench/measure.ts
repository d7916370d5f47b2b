import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';

/**
 * Runs one command under GNU time (`/usr/bin/time -v`) and reports its wall
 * time (measured here, with a monotonic clock) and what the kernel accounted
 * to it: peak RSS and CPU time. Every command runs in its own process group,
 * so a timeout or Ctrl-C kills the tool and everything it started.
 */

export const GNU_TIME = '/usr/bin/time';

export interface CommandLine {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface Measurement {
  ok: boolean;
  /** `exit 0`, `exit 3`, `signal SIGKILL`, `timeout after 600 s`. */
  exit: string;
  wallMs: number;
  /** From GNU time's "Maximum resident set size (kbytes)"; absent when time could not report. */
  maxRssKiB?: number;
  userS?: number;
  sysS?: number;
  /** The last lines of the command's stderr (its stdout when stderr is empty), for failures. */
  outputTail: string;
}

/** Throws, with the exact install command, when GNU time is missing (busybox or the shell keyword will not do). */
export async function checkGnuTime(): Promise<void> {
  const install = process.getuid?.() === 0 ? 'apt-get install -y time' : 'sudo apt-get install -y time';
  try {
    await access(GNU_TIME, constants.X_OK);
  } catch (err) {
    throw new Error(`${GNU_TIME} (GNU time) is missing; install it with: ${install}`, { cause: err });
  }
  const version = await new Promise<string>((resolve) => {
    const child = spawn(GNU_TIME, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', (e) => resolve(e.message));
    child.on('close', () => resolve(text));
  });
  if (!/GNU/.test(version)) throw new Error(`${GNU_TIME} is not GNU time (it needs -v); install it with: ${install}`);
}

const running = new Set<ChildProcess>();
/** How long GNU time gets to reap a killed tool and exit before it is killed too. */
const REAP_GRACE_MS = 5_000;

/** SIGKILL the tool of every command still running (for Ctrl-C and fatal errors); GNU time then exits by itself. */
export function killRunning(): void {
  for (const child of running) killTool(child);
}

function kill(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch (err) {
    // ESRCH: already gone, which is what we wanted.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Pids in process group `pgid`, from /proc (Linux: GNU time and this bench are Linux-only anyway). */
function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch (err) {
      // The process exited between readdir and read.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') continue;
      throw err;
    }
    // proc(5): "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid) pids.push(Number(name));
  }
  return pids;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Kill the measured tool (and anything it started) but not GNU time, the
 * group's leader: time then reaps the tool, reports and exits, and nothing is
 * left orphaned (this machine's init is slow to reap orphans). Before time has
 * started the tool, the whole group goes.
 */
function killTool(child: ChildProcess): void {
  if (child.pid === undefined || exited(child)) return;
  const others = groupMembers(child.pid).filter((pid) => pid !== child.pid);
  if (others.length === 0) kill(-child.pid);
  for (const pid of others) kill(pid);
}

/** SIGKILL whatever is left in the group (the leader included). */
function killGroup(child: ChildProcess): void {
  if (child.pid !== undefined) kill(-child.pid);
}

function field(report: string, name: string): number | undefined {
  const line = report.split('\n').find((l) => l.trim().startsWith(`${name}:`));
  if (!line) return undefined;
  const value = Number(line.slice(line.lastIndexOf(':') + 1).trim());
  return Number.isFinite(value) ? value : undefined;
}

async function tail(file: string, lines: number): Promise<string> {
  const text = await readFile(file, 'utf8');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Run `command` under GNU time with its output in `dir` (`stdout`, `stderr`,
 * `time`), killing the tool (then its process group) after `timeoutMs`. Resolves with the
 * measurement whether the command succeeded or not; rejects only when it
 * cannot be started at all.
 */
export async function measure(command: CommandLine, options: { dir: string; timeoutMs: number }): Promise<Measurement> {
  const timeFile = join(options.dir, 'time');
  const outFile = join(options.dir, 'stdout');
  const errFile = join(options.dir, 'stderr');
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  let child: ChildProcess;
  const started = process.hrtime.bigint();
  try {
    child = spawn(GNU_TIME, ['-v', '-o', timeFile, command.file, ...command.args], {
      stdio: ['ignore', out, err],
      env: command.env,
      detached: true,
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  running.add(child);
  let timedOut = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    killTool(child);
    graceTimer = setTimeout(() => killGroup(child), REAP_GRACE_MS);
  }, options.timeoutMs);
  const status = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  }).finally(() => {
    clearTimeout(timer);
    clearTimeout(graceTimer);
    running.delete(child);
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  // Anything the tool started dies with it: nothing of a run outlives the measurement.
  if (child.pid !== undefined && groupMembers(child.pid).length > 0) killGroup(child);

  const report = await readFile(timeFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  const ok = !timedOut && status.code === 0;
  const exit = timedOut ? `timeout after ${options.timeoutMs / 1000} s` : status.signal ? `signal ${status.signal}` : `exit ${String(status.code)}`;
  const rss = field(report, 'Maximum resident set size (kbytes)');
  const user = field(report, 'User time (seconds)');
  const sys = field(report, 'System time (seconds)');
  const errTail = await tail(errFile, 30);
  return {
    ok,
    exit,
    wallMs,
    ...(rss !== undefined ? { maxRssKiB: rss } : {}),
    ...(user !== undefined ? { userS: user } : {}),
    ...(sys !== undefined ? { sysS: sys } : {}),
    outputTail: errTail.length > 0 ? errTail : await tail(outFile, 30),
  };
}
