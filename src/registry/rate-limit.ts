/** Docker Hub's pull allowance, from the `ratelimit-*` headers of a manifest request. */
export interface RateLimit {
  /** Pulls allowed per window, or null when the registry sent no limit (no limit applies). */
  limit: number | null;
  remaining: number | null;
  /** Window length in seconds (`w=` parameter). */
  windowSeconds: number | null;
  /** `docker-ratelimit-source`: the IP or account the allowance is counted against. */
  source: string | null;
}

/**
 * Parse `ratelimit-limit: 100;w=21600` and `ratelimit-remaining: 76;w=21600`
 * (the IETF RateLimit header draft as Docker Hub sends it). Unparseable values
 * become null rather than errors: the headers are advisory.
 */
export function parseRateLimit(headers: Record<string, string | undefined>): RateLimit {
  const limit = parseQuota(headers['ratelimit-limit']);
  const remaining = parseQuota(headers['ratelimit-remaining']);
  return {
    limit: limit?.value ?? null,
    remaining: remaining?.value ?? null,
    windowSeconds: limit?.window ?? remaining?.window ?? null,
    source: headers['docker-ratelimit-source'] ?? null,
  };
}

function parseQuota(value: string | undefined): { value: number; window: number | null } | undefined {
  if (!value) return undefined;
  // Several policies may be listed ("100, 100;w=21600"); the first number is the effective one.
  const first = value.split(',')[0]?.trim() ?? '';
  const [count, ...params] = first.split(';').map((s) => s.trim());
  const n = Number(count);
  if (!count || !Number.isInteger(n) || n < 0) return undefined;
  const w = params.map((p) => /^w=(\d+)$/.exec(p)).find((m) => m !== null);
  return { value: n, window: w ? Number(w[1]) : null };
}
