/**
 * Group commit: changes that each need an expensive write of the whole
 * (an archive rewritten from its staged content) are applied together.
 * Changes added while a write runs wait for it and go into the next write,
 * all at once; so N changes arriving close together cost a few writes, not
 * N, and each caller still learns when its own change is on disk.
 */
export interface GroupCommit<T> {
  /**
   * Resolves once a write holding `change` (and every change added before
   * it) has finished; rejects with that write's error, in which case none of
   * the changes of that write were applied.
   */
  add(change: T, signal?: AbortSignal): Promise<void>;
}

/**
 * `write(changes, signal)` applies a batch and writes: one call at a time,
 * with the changes in the order they were added. The signal of a batch is
 * that of its most recent change: callers are expected to share one (the
 * commits of one copy do); with several, an abort of the latest fails the
 * whole batch and an earlier caller's abort does not stop it.
 */
export function createGroupCommit<T>(write: (changes: T[], signal: AbortSignal | undefined) => Promise<void>): GroupCommit<T> {
  interface Pending {
    change: T;
    signal: AbortSignal | undefined;
    resolve: () => void;
    reject: (error: unknown) => void;
  }
  let queue: Pending[] = [];
  let running = false;

  const drain = async (): Promise<void> => {
    running = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await write(
          batch.map((p) => p.change),
          batch.at(-1)?.signal,
        );
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    running = false;
  };

  return {
    add(change, signal) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ change, signal, resolve, reject });
        if (!running) void drain();
      });
    },
  };
}
