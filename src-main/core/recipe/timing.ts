/**
 * Estimated vs real time of a recipe run: the estimate is stored when the run is created, each step's real seconds
 * when its 'done' event arrives, the total when the job returns. Shared by the CLI and the app's service.
 */
import type { RunTiming } from '../history/runStore';
import type { RecipeEstimate } from './estimate';
import { type RecipeEvent } from './types';
import { STEP_NAMES } from '../../../src-shared/recipe/config';

/** A run's timing before it starts: the estimate per step (null without one), nothing real yet. */
export function timingFromEstimate(estimate: RecipeEstimate | null): RunTiming {
  return {
    steps: STEP_NAMES.map((name, i) => ({
      step: i + 1,
      name,
      estimate: estimate?.steps[i]?.seconds ?? null,
      actual: null,
    })),
    total: { estimate: estimate?.totalSeconds ?? null, actual: null },
  };
}

/**
 * Times the steps from their events. A resumed run keeps the seconds of its earlier sessions: a step interrupted
 * and run again gets the time of the session that finished it, the total adds every session up.
 */
export class RunClock {
  private readonly startedAt = Date.now();
  private readonly stepStartedAt = new Map<number, number>();
  private readonly earlierTotal: number;

  constructor(
    readonly timing: RunTiming,
    private readonly save: (timing: RunTiming) => void,
  ) {
    this.earlierTotal = timing.total.actual ?? 0;
  }

  onEvent(e: RecipeEvent): void {
    if (e.type !== 'step') return;
    if (e.status === 'started') {
      this.stepStartedAt.set(e.step, Date.now());
      return;
    }
    const started = this.stepStartedAt.get(e.step);
    const row = this.timing.steps.find((s) => s.step === e.step);
    if (started === undefined || !row) return;
    row.actual = (Date.now() - started) / 1000;
    this.save(this.timing);
  }

  /** The job returned (completed, paused, cancelled or failed): record the total so far. */
  finish(): RunTiming {
    this.timing.total.actual = this.earlierTotal + (Date.now() - this.startedAt) / 1000;
    this.save(this.timing);
    return this.timing;
  }
}
