/**
 * The server's queue for requests that read a whole folder or run a model on the main process (scans, previews,
 * estimates, evaluations): a few at a time, a short queue behind them, and a clear "busy" answer beyond it, so that
 * a flood of them (a thousand scans took minutes and 600 MB) costs a bounded amount of time and memory. The same
 * request (method and parameters) while one is running or waiting joins it instead of repeating the work: one scan
 * at a time per folder.
 */
import type { Method } from '../../src-shared/contract';

/** The methods that go through the queue; everything else answers from memory or the history database. */
export const LONG_METHODS: ReadonlySet<Method> = new Set<Method>([
  'dataset.scan',
  'dataset.augmentPreview',
  'recipe.estimate',
  'model.interpret',
  'model.evaluate',
]);

export class LongRequestQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
  ) {}

  /** Runs `work` when a place is free; throws at once when `concurrency` run and `maxWaiting` wait already. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const same = this.inFlight.get(key);
    if (same) return same as Promise<T>;
    if (this.running >= this.concurrency && this.waiting.length >= this.maxWaiting) {
      throw new Error(
        `Busy: ${this.running} long requests (scans, previews, estimates, evaluations) are running and ` +
          `${this.waiting.length} are waiting; try again when one has answered.`,
      );
    }
    const done = this.acquire()
      .then(work)
      .finally(() => {
        this.inFlight.delete(key);
        this.release();
      });
    this.inFlight.set(key, done);
    return done;
  }

  private acquire(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** The freed place goes to the next waiting request (running stays the same) or is given back. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
