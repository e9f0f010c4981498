/**
 * "Run all eight steps" / "Run the remaining steps" ask first (issue 24): a newcomer sees how long the run will take
 * on this machine, per step, before minutes of training start. Both buttons (the stepper's and a step page's) open
 * the one confirmation dialog (components/RunAllDialog.svelte) through this store.
 */
import { recipe } from './recipe.svelte';

class RunAllAsk {
  open = $state(false);

  /** Opens the confirmation and measures the estimate of the run it would start or continue. */
  ask(): void {
    if (recipe.active) return;
    this.open = true;
    void recipe.estimateFor(recipe.startsNew ? recipe.startConfig() : recipe.continueConfig());
  }

  close(): void {
    this.open = false;
  }

  /** Confirmed: the run goes on to step 8. */
  confirm(): void {
    this.open = false;
    void recipe.run(8);
  }
}

export const runAll = new RunAllAsk();
