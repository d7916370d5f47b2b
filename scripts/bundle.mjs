#!/usr/bin/env node
// Bundles the CLI into one file. Node loads a single module far faster than
// the ~300 it would otherwise resolve and compile at every start (measured:
// `gantry --version` 0.21 s → 0.12 s), and start-up is paid by every command a
// script runs. The library (dist/index.js) stays unbundled tsc output.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

await build({
  entryPoints: [join(root, 'dist/cli/main.js')],
  outfile: join(root, 'dist/gantry.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // A native module, optional at install: loaded at run time when present.
  external: ['@napi-rs/keyring'],
  alias: { undici: join(root, 'scripts/undici-slim.cjs') },
  define: { 'process.env.GANTRY_BUNDLED_VERSION': JSON.stringify(version) },
  // Some dependencies are CommonJS and call require(): give the ESM bundle one.
  banner: { js: "import { createRequire as __gantryCreateRequire } from 'node:module'; const require = __gantryCreateRequire(import.meta.url);" },
  legalComments: 'linked',
  logLevel: 'warning',
});
