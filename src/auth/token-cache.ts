import { shareWork, type SharedWork } from '../internal/shared-work.js';

/** A bearer token as issued, with its expiry by the local clock. */
export interface IssuedToken {
  token: string;
  /** Epoch milliseconds after which the token must not be used. */
  expiresAt: number;
  /** The lifetime the token service granted, in milliseconds. */
  lifetimeMs: number;
}

interface Entry {
  work?: SharedWork<IssuedToken>;
  token?: IssuedToken;
  fetchedAt?: number;
}

export interface TokenCache {
  /**
   * The cached token for `key` while it is comfortably valid, else the one
   * being fetched for it, else the result of a new `fetch` (shared with every
   * caller asking for the same key meanwhile). A failed fetch is not cached.
   */
  get(key: string, fetch: (signal: AbortSignal) => Promise<IssuedToken>, signal?: AbortSignal): Promise<IssuedToken>;
  /**
   * Forget the token for `key` so the next `get` fetches anew, unless it was
   * fetched less than `keepIfYoungerThanMs` ago: a token that fresh failing
   * means it lacks access, and fetching again would only return the same.
   */
  invalidate(key: string, keepIfYoungerThanMs?: number): void;
}

/**
 * Tokens are renewed a little before they expire (a tenth of their life, at
 * most 30 s), so a request never leaves with a token about to lapse.
 */
export function createTokenCache(options: { now: () => number }): TokenCache {
  const entries = new Map<string, Entry>();
  const usable = (token: IssuedToken): boolean =>
    options.now() < token.expiresAt - Math.min(30_000, token.lifetimeMs / 10);

  return {
    get(key, fetch, signal) {
      const existing = entries.get(key);
      if (existing?.token && usable(existing.token)) return Promise.resolve(existing.token);
      if (existing?.work && !existing.token && !existing.work.abandoned) return existing.work.join(signal);
      // In the map before the work starts, so a fetch failing at once still removes its own entry.
      const entry: Entry = {};
      entries.set(key, entry);
      const work = shareWork(async (workSignal) => {
        try {
          const token = await fetch(workSignal);
          entry.token = token;
          entry.fetchedAt = options.now();
          return token;
        } catch (err) {
          if (entries.get(key) === entry) entries.delete(key);
          throw err;
        }
      });
      entry.work = work;
      return work.join(signal);
    },
    invalidate(key, keepIfYoungerThanMs = 0) {
      const entry = entries.get(key);
      if (!entry?.token || entry.fetchedAt === undefined) return;
      if (options.now() - entry.fetchedAt < keepIfYoungerThanMs) return;
      entries.delete(key);
    },
  };
}
