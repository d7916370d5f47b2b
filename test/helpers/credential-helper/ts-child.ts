import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: TypeScript paths given to `load` are relative to it. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface TsChildOptions {
  /**
   * The body of `async (load, args) => …`, run in a fresh node process.
   * `load('src/x.ts')` imports a TypeScript module of this repository; the
   * returned value must be JSON-serializable.
   */
  body: string;
  args?: unknown;
  /** The child's whole environment. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Kill the child after this long. Default 30 s. */
  timeoutMs?: number;
}

/** What the body returned, or what it threw (the fields a GantryError carries). */
export type TsChildOutcome =
  | { ok: true; value: unknown }
  | { ok: false; error: { name: string; message: string; code?: string; hint?: string } };

const MARKER = '@@ts-child-outcome@@';

// Vite (vitest's own dependency) compiles the TypeScript on the fly, as vitest does.
const BOOTSTRAP = `
const { createServer } = await import('vite');
const server = await createServer({
  root: process.env.TS_CHILD_ROOT, configFile: false, logLevel: 'error', appType: 'custom',
  optimizeDeps: { noDiscovery: true, include: [] },
  server: { middlewareMode: true, hmr: false, ws: false, watch: null },
});
let outcome;
try {
  const load = (path) => server.ssrLoadModule(path.startsWith('/') ? path : '/' + path);
  const args = JSON.parse(process.env.TS_CHILD_ARGS);
  const body = new Function('load', 'args', 'return (async () => {' + process.env.TS_CHILD_BODY + '})();');
  outcome = { ok: true, value: (await body(load, args)) ?? null };
} catch (err) {
  outcome = { ok: false, error: { name: err?.name, message: err?.message ?? String(err), code: err?.code, hint: err?.hint } };
} finally {
  await server.close();
}
process.stdout.write('\\n${MARKER}' + JSON.stringify(outcome) + '\\n');
`;

/**
 * Run code against this repository's TypeScript sources in a separate node
 * process, for tests that need a second process (lock contention) or a fresh
 * one (native modules that read the environment once). Rejects when the child
 * dies without reporting or outlives `timeoutMs`.
 */
export function runTsChild(options: TsChildOptions): Promise<TsChildOutcome> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', BOOTSTRAP], {
      cwd: REPO_ROOT,
      env: {
        ...(options.env ?? process.env),
        TS_CHILD_ROOT: REPO_ROOT,
        TS_CHILD_BODY: options.body,
        TS_CHILD_ARGS: JSON.stringify(options.args ?? null),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ts child timed out after ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
      if (line === undefined) {
        reject(new Error(`ts child exited with ${code} without an outcome; stderr: ${stderr}`));
        return;
      }
      resolvePromise(JSON.parse(line.slice(MARKER.length)) as TsChildOutcome);
    });
  });
}
