/**
 * Seconds left in a pass over many items, from the rate since the pass's first report. Items that were already done
 * at the first report (found in a cache) do not count towards the rate: they took no time.
 */
export class EtaClock {
  private start: { at: number; done: number } | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** null until a second of work has been measured (a rate from a few items says nothing). */
  eta(done: number, total: number): number | null {
    const at = this.now();
    if (!this.start) {
      this.start = { at, done };
      return null;
    }
    const elapsed = (at - this.start.at) / 1000;
    const progressed = done - this.start.done;
    if (elapsed < 1 || progressed <= 0) return null;
    return Math.round(((total - done) * elapsed) / progressed);
  }
}
