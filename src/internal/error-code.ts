/** The `code` of a node system error (`ENOENT`, `EEXIST`, …), or undefined for anything else. */
export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
