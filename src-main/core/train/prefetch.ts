/**
 * Run a data source ahead of its consumer, so that the next batches' image decoding (sharp, on libuv threads)
 * proceeds while the Learner's synchronous training step holds the JS thread. The source's own generator still
 * produces batches one after another, in order, so its seeded streams (shuffle, augmentation) are consumed exactly
 * as without prefetching: the batches are identical, only their timing changes.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch, DataSource } from './learner';

/** A settled `next()`: kept as a value so a failure surfaces only where its item would have been consumed. */
type Pulled<T> = { ok: true; result: IteratorResult<T> } | { ok: false; error: unknown };

/**
 * Iterate `source` with up to `depth` items requested ahead of the one just handed out. Items fetched ahead but
 * never consumed (the consumer breaks or throws) are passed to `discard` and the source is closed.
 */
export async function* ahead<T>(
  source: AsyncIterable<T>,
  depth: number,
  discard: (item: T) => void,
): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: Promise<Pulled<T>>[] = [];
  const pull = () => {
    queue.push(
      it.next().then(
        (result) => ({ ok: true as const, result }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    );
  };
  try {
    for (let i = 0; i < depth; i++) pull();
    for (;;) {
      const pulled = await queue.shift()!;
      if (!pulled.ok) throw pulled.error;
      if (pulled.result.done) return;
      // Ask for the next one before handing this one over: its decode starts while the consumer works.
      pull();
      yield pulled.result.value;
    }
  } finally {
    // Requests still in flight settle first (an async generator queues return() behind them anyway).
    for (const pulled of await Promise.all(queue.splice(0))) {
      if (pulled.ok && !pulled.result.done) discard(pulled.result.value);
    }
    // Closing a finished or failed generator is a no-op; closing a suspended one runs its cleanup.
    await it.return?.();
  }
}

/**
 * A DataSource whose `batches(epoch)` keeps up to `depth` batches of `source` in flight; `depth` 0 returns the
 * source itself. Batches prefetched but not consumed are disposed when the epoch is abandoned.
 */
export function prefetch(source: DataSource, depth = 2): DataSource {
  if (depth <= 0) return source;
  return {
    numBatches: source.numBatches,
    numItems: source.numItems,
    batches: (epoch) => ahead(source.batches(epoch), depth, (b: Batch) => tf.dispose([b.x, b.y])),
  };
}
