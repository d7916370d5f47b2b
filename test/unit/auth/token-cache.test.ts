import { describe, expect, it } from 'vitest';
import { createTokenCache, type IssuedToken } from '../../../src/auth/index.js';

function issue(token: string, now: number, lifetimeMs = 60_000): IssuedToken {
  return { token, lifetimeMs, expiresAt: now + lifetimeMs };
}

describe('createTokenCache', () => {
  it('serves a cached token until shortly before it expires, then fetches anew', async () => {
    let now = 0;
    let fetched = 0;
    const cache = createTokenCache({ now: () => now });
    const fetch = async () => issue(`t${++fetched}`, now, 60_000);
    expect((await cache.get('k', fetch)).token).toBe('t1');
    now = 50_000;
    expect((await cache.get('k', fetch)).token).toBe('t1');
    // Within the last tenth of its life: renewed.
    now = 54_500;
    expect((await cache.get('k', fetch)).token).toBe('t2');
  });

  it('renews long-lived tokens at most 30 s early', async () => {
    let now = 0;
    let fetched = 0;
    const cache = createTokenCache({ now: () => now });
    const fetch = async () => issue(`t${++fetched}`, now, 3_600_000);
    await cache.get('k', fetch);
    now = 3_600_000 - 31_000;
    expect((await cache.get('k', fetch)).token).toBe('t1');
    now = 3_600_000 - 29_000;
    expect((await cache.get('k', fetch)).token).toBe('t2');
  });

  it('shares one fetch between concurrent callers of a key, not across keys', async () => {
    let fetched = 0;
    const cache = createTokenCache({ now: () => 0 });
    const fetch = async () => {
      fetched++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return issue(`t${fetched}`, 0);
    };
    const tokens = await Promise.all([cache.get('a', fetch), cache.get('a', fetch), cache.get('a', fetch), cache.get('b', fetch)]);
    expect(fetched).toBe(2);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[0]).toBe(tokens[2]);
    expect(tokens[3]).not.toBe(tokens[0]);
  });

  it('does not keep a failed fetch', async () => {
    let calls = 0;
    const cache = createTokenCache({ now: () => 0 });
    const fetch = async () => {
      calls++;
      if (calls === 1) throw new Error('boom');
      return issue('ok', 0);
    };
    await expect(cache.get('k', fetch)).rejects.toThrow('boom');
    expect((await cache.get('k', fetch)).token).toBe('ok');
  });

  it('forgets a token on invalidate unless it is younger than asked', async () => {
    let now = 0;
    let fetched = 0;
    const cache = createTokenCache({ now: () => now });
    const fetch = async () => issue(`t${++fetched}`, now, 600_000);
    await cache.get('k', fetch);
    now = 1_000;
    cache.invalidate('k', 2_000);
    expect((await cache.get('k', fetch)).token).toBe('t1');
    now = 5_000;
    cache.invalidate('k', 2_000);
    expect((await cache.get('k', fetch)).token).toBe('t2');
  });

  it('cancels the shared fetch only when every waiting caller has aborted', async () => {
    const cache = createTokenCache({ now: () => 0 });
    let cancelled = false;
    const fetch = (signal: AbortSignal) =>
      new Promise<IssuedToken>((resolve, reject) => {
        const timer = setTimeout(() => resolve(issue('late', 0)), 200);
        signal.addEventListener('abort', () => {
          cancelled = true;
          clearTimeout(timer);
          reject(new Error('cancelled'));
        });
      });
    const one = new AbortController();
    const two = new AbortController();
    const first = cache.get('k', fetch, one.signal);
    const second = cache.get('k', fetch, two.signal);
    one.abort();
    await expect(first).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(cancelled).toBe(false);
    two.abort();
    await expect(second).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(cancelled).toBe(true);
    // A new caller gets a new fetch, not the cancelled one.
    const fresh = await cache.get('k', async () => issue('fresh', 0));
    expect(fresh.token).toBe('fresh');
  });
});
