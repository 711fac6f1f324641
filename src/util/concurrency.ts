/**
 * Small concurrency primitives, pure and dependency-free, shared by every layer that bounds
 * parallel work (fan-out over hosts, SSH handshakes, files in flight, bytes in flight).
 */

/** A counting semaphore. A released slot is handed straight to the oldest waiter (FIFO). */
export function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  const acquire = (): Promise<void> => {
    if (active < limit) {
      active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next(); // the slot passes on: `active` stays the same
    else active -= 1;
  };
  return async (task) => {
    await acquire();
    try {
      return await task();
    } finally {
      release();
    }
  };
}

/**
 * Runs `work` for every item with at most `limit` in flight. Stops taking new items after the
 * first failure and rethrows it once the items already started have settled.
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(0, Math.min(limit, items.length)) }, lane));
  if (failure !== undefined) throw failure.error;
}

/**
 * A shared allowance of units (bytes): `use(n, run)` waits until `n` units are free, FIFO, so a
 * large request is never starved by small ones; `n` is capped at the total so anything can run.
 */
export function createBudget(total: number): (amount: number, run: () => Promise<void>) => Promise<void> {
  let free = total;
  const queue: Array<{ need: number; grant: () => void }> = [];
  const pump = (): void => {
    while (queue.length > 0 && (queue[0] as { need: number }).need <= free) {
      const head = queue.shift() as { need: number; grant: () => void };
      free -= head.need;
      head.grant();
    }
  };
  return async (amount, run) => {
    const need = Math.min(Math.max(amount, 1), total);
    if (queue.length === 0 && need <= free) free -= need;
    else await new Promise<void>((grant) => (queue.push({ need, grant }), pump()));
    try {
      await run();
    } finally {
      free += need;
      pump();
    }
  };
}
