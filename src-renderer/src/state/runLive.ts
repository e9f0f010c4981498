/**
 * A run's live data as the wizard's charts draw it: per training step its batch losses and LRs and its epochs; per
 * range test (steps 2 and 7) its points so far. Filled from `run.event`s as they come, or all at once from the
 * server's `run.state` (a reload, a second window, a reconnection).
 */
import type { EpochMetrics, LrFindPoint, RunEvent, RunState } from '../../../src-shared/contract';
import { STEP_NAMES } from '../../../src-shared/recipe/config';
import type { LrCurve } from './lrCurve';

/** An epoch of a training step, placed on the step's x axis (batches seen so far in that step). */
export type RecipeEpoch = EpochMetrics & { x: number };

/** The batches and epochs of one training step (3, 4 or 8). */
export interface StepLive {
  loss: (number | null)[];
  lr: number[];
  epochs: RecipeEpoch[];
}

/** The step number of a step name ('step3-head' → 3). */
export function stepOfName(name: string): number | null {
  const i = (STEP_NAMES as readonly string[]).indexOf(name);
  return i < 0 ? null : i + 1;
}

const emptyStep = (): StepLive => ({ loss: [], lr: [], epochs: [] });

export class RunLive {
  private steps = new Map<number, StepLive>();
  private points = new Map<number, LrCurve>();

  step(step: number): StepLive {
    let live = this.steps.get(step);
    if (!live) {
      live = emptyStep();
      this.steps.set(step, live);
    }
    return live;
  }

  /** A copy, so that deriveds depending on it recompute. */
  copyOf(step: number): StepLive {
    const live = this.steps.get(step);
    return live ? { loss: [...live.loss], lr: [...live.lr], epochs: [...live.epochs] } : emptyStep();
  }

  /** The range test of `step` while it runs (its points so far). */
  curveOf(step: number): LrCurve {
    const c = this.points.get(step);
    return c ? { lr: [...c.lr], loss: [...c.loss], smoothedLoss: [...c.smoothedLoss] } : emptyCurve();
  }

  restartStep(step: number): void {
    this.steps.set(step, emptyStep());
    this.points.delete(step);
  }

  /** Applies a batch, epoch or range-test point; false if the event is none of them. */
  apply(event: RunEvent, currentStep: number | null): boolean {
    switch (event.type) {
      case 'batch': {
        const step = stepOfName(event.step) ?? currentStep;
        if (step === null) return true;
        const live = this.step(step);
        live.loss.push(event.loss);
        live.lr.push(event.lr);
        return true;
      }
      case 'epoch': {
        const { runId: _runId, type: _type, ...m } = event;
        const step = stepOfName(m.step) ?? currentStep;
        if (step !== null) this.addEpoch(step, m);
        return true;
      }
      case 'lrfindPoint':
        this.addPoint(event);
        return true;
      default:
        return false;
    }
  }

  /**
   * Everything the server holds for the run. Its iterations are downsampled there: each is put at its own index in
   * the step, and each epoch after the last iteration of that epoch, as the live events would have.
   */
  loadState(state: RunState): void {
    this.steps = new Map();
    this.points = new Map();
    const epochEnd = new Map<string, number>();
    for (const it of state.iterations) {
      const step = stepOfName(it.step);
      if (step === null) continue;
      const live = this.step(step);
      live.loss[it.iteration] = it.loss;
      live.lr[it.iteration] = it.lr;
      const key = `${step}:${it.epoch}`;
      epochEnd.set(key, Math.max(epochEnd.get(key) ?? 0, it.iteration + 1));
    }
    for (const m of state.epochs) {
      const step = stepOfName(m.step);
      if (step === null) continue;
      const live = this.step(step);
      if (live.epochs.some((e) => e.epoch === m.epoch)) continue;
      const last = live.epochs[live.epochs.length - 1];
      const x = Math.max(epochEnd.get(`${step}:${m.epoch}`) ?? 1, (last?.x ?? 0) + 1);
      live.epochs.push({ ...m, x });
    }
    for (const p of state.lrFindPoints) this.addPoint(p);
  }

  private addEpoch(step: number, m: EpochMetrics): void {
    const live = this.step(step);
    if (live.epochs.some((e) => e.epoch === m.epoch)) return;
    const last = live.epochs[live.epochs.length - 1];
    const seen = live.loss.length;
    const x = last && seen <= last.x ? last.x + 1 : Math.max(seen, 1);
    live.epochs.push({ ...m, x });
  }

  private addPoint(p: LrFindPoint): void {
    let c = this.points.get(p.step);
    if (!c) {
      c = emptyCurve();
      this.points.set(p.step, c);
    }
    c.lr[p.iteration] = p.lr;
    c.loss[p.iteration] = p.loss;
    c.smoothedLoss[p.iteration] = p.smoothedLoss;
  }
}

function emptyCurve(): LrCurve {
  return { lr: [], loss: [], smoothedLoss: [] };
}
