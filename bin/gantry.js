#!/usr/bin/env node
// The executable: run the compiled CLI and hand its exit code to the process.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
