/**
 * Bounded concurrency for work over many files: every fan-out over a folder's images (scan, precompute, batches,
 * augmentation previews, thumbnails, predict) goes through `mapPool`, so the number of files open, the pixels
 * decoded and the promises queued depend on the limit, never on the size of the folder.
 */

/** A job stopped because its caller asked it to (the cancel button, SIGINT). */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export interface PoolOptions {
  /** Checked before each item starts: when true, no new item starts and mapPool rejects with CancelledError. */
  shouldCancel?: () => boolean;
}

/**
 * Images decoded at once by one fan-out: more than libuv's 4 threads, so a decode is queued while the JS thread is
 * busy (a training step), few enough that file descriptors and decoded pixels stay small.
 */
export const IO_CONCURRENCY = 8;

/**
 * Run `fn` over items with at most `limit` in flight; results keep the input order. On the first error (or a
 * cancel) no new item starts, the ones in flight settle (so no file is left open behind the caller's back), and the
 * error is thrown.
 */
export async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  opts: PoolOptions = {},
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (next < items.length && !failure) {
      if (opts.shouldCancel?.()) {
        failure ??= { error: new CancelledError() };
        return;
      }
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
  return results;
}

/**
 * A process-wide cap on a scarce resource (open image files): `run` waits for a free slot. Whatever number of pools
 * run at once (a prefetched batch, a thumbnail request, a scan), at most `size` holders exist.
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  async run<R>(fn: () => Promise<R>): Promise<R> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (the count stays taken), or give it back.
      const wake = this.waiting.shift();
      if (wake) wake();
      else this.free++;
    }
  }

  /** Holders right now (tests check the cap). */
  get inUse(): number {
    return this.size - this.free;
  }
}
