import { readFileSync } from 'node:fs';

/**
 * The package version: stamped into the bundle at build time, else read once
 * from package.json next to dist/ (or src/ under test).
 */
export const VERSION: string =
  process.env.GANTRY_BUNDLED_VERSION ??
  (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
