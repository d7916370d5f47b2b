import { raceAbort } from '../internal/abort.js';
import type { Authenticator } from '../auth/types.js';
import type { PingResult } from './types.js';

/**
 * Tell the authenticator how each registry authenticates, once per registry,
 * from the challenges its ping collected: without this every first request
 * per scope would go out bare and come back 401. Concurrent callers share
 * one priming; a failure (a credential helper that fails) is not kept, so
 * the next request tries again.
 */
export function createPrimer(options: {
  auth: Authenticator;
  ping: (registry: string, signal?: AbortSignal) => Promise<PingResult>;
}): (registry: string, signal?: AbortSignal) => Promise<void> {
  const primed = new Map<string, Promise<void>>();
  return (registry, signal) => {
    let done = primed.get(registry);
    if (!done) {
      // No caller's signal inside: the priming is shared, and one caller giving up must not fail the others.
      done = (async () => {
        const { challenges } = await options.ping(registry);
        if (challenges.length > 0) await options.auth.challenge(registry, challenges, []);
      })();
      primed.set(registry, done);
      done.catch(() => primed.delete(registry));
    }
    return raceAbort(done, signal);
  };
}
