// Loads the CLI bundle (dist/gantry.cjs) with V8's code cache
// (dist/gantry.cjs.cache, written by the build): parsing and compiling the
// ~2 MB bundle is a third of gantry's start-up, and node 20 has no compile
// cache of its own for it (module.enableCompileCache is node 22). A cache
// that does not match this node (another V8) is ignored by V8, and the
// bundle compiles from source as usual.
'use strict';
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { setFlagsFromString } = require('node:v8');
const { Script } = require('node:vm');

const BUNDLE = join(__dirname, '..', 'dist', 'gantry.cjs');
const CODE_CACHE = `${BUNDLE}.cache`;

/**
 * Keeps V8 from recompiling WebAssembly with TurboFan. undici parses HTTP
 * with llhttp compiled to WebAssembly; V8 starts it in its baseline
 * compiler (Liftoff) and, once warm, recompiles it on a background thread:
 * ~50 ms of CPU that node waits for before it exits, so every command that
 * talks to a registry took 50 ms longer than its work (a re-push: 0.16 s
 * instead of 0.11 s). Liftoff's code is fast enough for parsing response
 * heads; bodies pass through it untouched.
 *
 * The flag raises the tier-up budget beyond any CLI run rather than forbid
 * TurboFan (`--liftoff-only`): under that flag newer V8s treat any Liftoff
 * bailout as fatal. Only on node 20, the V8 this was measured on (11.3):
 * another V8 may have dropped or renamed the flag, and V8 reports an
 * unknown one on stderr.
 *
 * Call it after `loadCli`, before the first request: V8 checks code caches
 * (the bundle's, and node's own for its built-in modules) against the flags
 * they were made with, so flags changed earlier would cost both caches.
 */
function keepWasmInBaselineTier() {
  if (process.versions.node.split('.')[0] !== '20') return;
  setFlagsFromString('--wasm-tiering-budget=2000000000');
}

/** The bundle's exports (`main`) and the compiled script (for `createCachedData`). */
function loadCli() {
  // The bundle is ASCII (esbuild escapes everything else; the build checks): read as latin1,
  // node skips UTF-8 decoding, ~1 ms of a 2 MB file.
  const source = readFileSync(BUNDLE, 'latin1');
  let cachedData;
  try {
    cachedData = readFileSync(CODE_CACHE);
  } catch {
    // No cache (a build without one): compile from source.
  }
  // CommonJS's own wrapper, on the first line so that line numbers in stack traces stay true.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: BUNDLE,
    ...(cachedData ? { cachedData } : {}),
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  return { main: module.exports.main, script };
}

module.exports = { BUNDLE, CODE_CACHE, keepWasmInBaselineTier, loadCli };
