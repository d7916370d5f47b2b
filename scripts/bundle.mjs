#!/usr/bin/env node
// Bundles the CLI into one file. Node loads a single module far faster than
// the ~300 it would otherwise resolve and compile at every start (measured:
// `gantry --version` 0.21 s → 0.12 s), and start-up is paid by every command a
// script runs. The library (dist/index.js) stays unbundled tsc output.
//
// CommonJS, so that bin/load-cli.js can compile it as a vm.Script with V8's
// code cache, which this script then writes (scripts/code-cache.mjs):
// 0.12 s → 0.09 s for `gantry --version`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

await build({
  entryPoints: [join(root, 'dist/cli/main.js')],
  outfile: join(root, 'dist/gantry.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // A native module, optional at install: loaded at run time when present.
  external: ['@napi-rs/keyring'],
  alias: { undici: join(root, 'scripts/undici-slim.cjs') },
  plugins: [lazyHttp2()],
  define: { 'process.env.GANTRY_BUNDLED_VERSION': JSON.stringify(version) },
  legalComments: 'linked',
  // version.ts reads package.json through import.meta.url only when the version was not stamped (define above).
  logOverride: { 'empty-import-meta': 'silent' },
  logLevel: 'warning',
});

/**
 * undici's client loads its HTTP/2 half (and node:http2) as it loads, ~1.5 ms
 * of every start, for connections gantry never makes: HTTP/2 is used only
 * when a dispatcher allows it (allowH2), and gantry's do not. This hands the
 * client a function that loads the real one on its first call instead.
 */
function lazyHttp2() {
  const real = join(root, 'node_modules/undici/lib/dispatcher/client-h2.js');
  return {
    name: 'lazy-undici-http2',
    setup(b) {
      b.onResolve({ filter: /^\.\/client-h2\.js$/ }, (args) =>
        args.importer.endsWith(join('undici', 'lib', 'dispatcher', 'client.js')) ? { path: 'undici-client-h2', namespace: 'lazy-http2' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'lazy-http2' }, () => ({
        contents: `module.exports = function connectH2(client, socket) { return require(${JSON.stringify(real)})(client, socket); };`,
        resolveDir: root,
        loader: 'js',
      }));
    },
  };
}

// bin/load-cli.js reads the bundle as latin1 (no UTF-8 decoding at every start): esbuild's
// default charset keeps it ASCII; make sure nothing slipped through.
const bundled = readFileSync(join(root, 'dist/gantry.cjs'));
const wide = bundled.findIndex((byte) => byte > 0x7f);
if (wide !== -1) throw new Error(`dist/gantry.cjs is not ASCII (byte ${wide}): bin/load-cli.js reads it as latin1`);

// A cache made for the previous bundle would be rejected by V8 anyway; make a fresh one.
rmSync(join(root, 'dist/gantry.cjs.cache'), { force: true });
rmSync(join(root, 'dist/gantry.mjs'), { force: true });
try {
  execFileSync(process.execPath, [join(root, 'scripts/code-cache.mjs')], { stdio: ['ignore', 'ignore', 'pipe'] });
} catch (err) {
  // gantry works without the cache, only starts slower: say so, and keep the build.
  process.stderr.write(`warning: no code cache for the CLI bundle (start-up will be slower):\n${err.stderr ?? err.message}\n`);
}
