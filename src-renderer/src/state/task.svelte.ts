import { errorMessage } from '../api';

/** Something a page does on request (export, evaluate, interpret, preview): whether it runs now, and its last error. */
export class Task {
  running = $state(false);
  error = $state<string | null>(null);

  /** Runs `action`; meanwhile `running`, and its failure is kept as `error` instead of thrown. */
  async run(action: () => Promise<void>): Promise<void> {
    this.running = true;
    this.error = null;
    try {
      await action();
    } catch (error) {
      this.error = errorMessage(error);
    } finally {
      this.running = false;
    }
  }

  /** As `run`, unless a run is under way: then nothing (a second click while the first still works). */
  async runIfIdle(action: () => Promise<void>): Promise<void> {
    if (!this.running) await this.run(action);
  }
}
