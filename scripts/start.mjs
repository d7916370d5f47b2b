#!/usr/bin/env node
// `npm start [-- ARGS]`: set up on first use (install, build), then run gantry
// with ARGS, or its offline demo when there are none. Node built-ins only:
// before the set-up step nothing else may be installed.
import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

// npm runs the `prestart` script (the same set-up) before `start`; run directly,
// this script does it itself.
if (process.env.npm_lifecycle_event !== 'start') {
  const setup = spawnSync(process.execPath, [join(root, 'scripts', 'ensure-setup.mjs')], { stdio: 'inherit' });
  if (setup.status !== 0) process.exit(setup.status ?? 1);
}

const child = spawn(process.execPath, [join(root, 'bin', 'gantry.js'), ...(args.length > 0 ? args : ['demo'])], { stdio: 'inherit' });

// Ctrl-C reaches the whole foreground process group, gantry included, which
// stops cleanly (the demo stops its registry and removes its files) and exits
// 130: wait for that rather than die first, and do not send a second SIGINT.
// Signals sent to this process alone (kill PID) are passed on.
process.on('SIGINT', () => {});
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));

child.on('error', (err) => {
  process.stderr.write(`npm start: cannot run gantry: ${err.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
});
