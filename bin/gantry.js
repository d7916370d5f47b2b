#!/usr/bin/env node
// The executable: run the CLI (the single-file bundle the build makes) and hand
// its exit code to the process. CommonJS (bin/package.json): node sets up its
// ES module loader only for an ES module entry, and that set-up took ~5 ms of
// every command's start.
'use strict';
const { keepWasmInBaselineTier, loadCli } = require('./load-cli.js');

const { main } = loadCli();
keepWasmInBaselineTier();

// `gantry tags REPO | head -1`: the reader went away, which is not an error
// worth a stack trace; stop quietly as a pipeline expects.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
