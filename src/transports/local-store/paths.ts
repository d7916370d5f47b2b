import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** The environment variables the paths depend on (process.env fits). */
export type PathEnv = Readonly<Record<string, string | undefined>>;

/**
 * gantry's data directory: `$GANTRY_HOME`, else `$XDG_DATA_HOME/gantry`, else
 * `~/.local/share/gantry` (the XDG Base Directory default). A relative
 * `XDG_DATA_HOME` is ignored, as the XDG spec requires; a relative
 * `GANTRY_HOME` is taken from the current directory. Never throws.
 */
export function gantryHome(env: PathEnv): string {
  const own = env['GANTRY_HOME'];
  if (own) return resolve(own);
  const xdg = env['XDG_DATA_HOME'];
  if (xdg && isAbsolute(xdg)) return join(xdg, 'gantry');
  return join(env['HOME'] || homedir(), '.local', 'share', 'gantry');
}

/** The local image store: one OCI image layout, `<home>/store`. */
export function storeDir(env: PathEnv): string {
  return join(gantryHome(env), 'store');
}

/** Resumable and coordination state (upload sessions, in-flight copy pins): `<home>/state`. */
export function stateDir(env: PathEnv): string {
  return join(gantryHome(env), 'state');
}
