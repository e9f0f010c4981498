/**
 * How every training command runs and reports: one leg of a run through the core's `RunController` in this process
 * (Ctrl-C cancels it, keeping its checkpoint), progress lines on stderr, and one summary at the end (--json: one line).
 */
import type { RecipeStepResult, RunEvent, RunStatus, SwaResult } from '../../src-shared/contract';
import { differentialLrs } from '../../src-shared/recipe/differentialLrs';
import { formatSeconds } from '../../src-shared/recipe/duration';
import type { RunStore, RunTiming } from '../core/history/runStore';
import {
  inProcessRunner,
  RunController,
  RunRefusedError,
  type ContinueRunOptions,
  type HomePaths,
  type LegOutcome,
} from '../core/run/runController';
import { recipeOfRunOrNull } from '../core/history/rerun';
import { UsageError, type Io } from './args';
import { cancellable, runStatusLine } from './session';
import { epochLine, ProgressLine } from './progress';

export interface RunLegOptions {
  store: RunStore;
  paths: HomePaths;
  json: boolean;
  io: Io;
  /** Start or continue the run on the controller; returns its id. */
  launch: (runs: RunController) => number;
  /** Told every event (e.g. to collect epochs) besides the progress printing. */
  onEvent?: (e: RunEvent) => void;
}

/** Fails as a mistake on the command line (exit 2) unless the history holds run `runId`. */
export function requireRun(store: RunStore, paths: HomePaths, runId: number): void {
  if (!store.getRun(runId)) throw new UsageError(`No run ${runId} in ${paths.history}: see "finetune runs".`);
}

/** `runs.continue` for a RunLegOptions.launch: a refusal (running, completed, an older kind of run) exits 2. */
export function continueLeg(runs: RunController, opts: ContinueRunOptions): number {
  try {
    return runs.continue(opts);
  } catch (err) {
    throw err instanceof RunRefusedError ? new UsageError(err.message) : err;
  }
}

/** Runs one leg to its end; the stored outcome. */
export async function runLeg(opts: RunLegOptions): Promise<LegOutcome> {
  const progress = new ProgressLine();
  const outcome = await cancellable(async (shouldCancel) => {
    const runs = new RunController({
      store: opts.store,
      paths: opts.paths,
      runner: inProcessRunner(opts.paths, shouldCancel),
      emit: (e) => {
        opts.onEvent?.(e);
        if (!opts.json) printEvent(progress, e);
      },
    });
    const runId = opts.launch(runs);
    return runs.finished(runId);
  });
  progress.clear();
  // A leg that threw (stored as failed): its message is the command's error line (main.ts prints it, exit 1).
  if (outcome.result === null && outcome.status === 'failed') throw new Error(outcome.error ?? 'the run failed');
  if (outcome.status !== 'completed' && outcome.status !== 'paused') process.exitCode = 1;
  return outcome;
}

function printEvent(progress: ProgressLine, e: RunEvent): void {
  if (e.type === 'progress') progress.update(e);
  else if (e.type === 'step') progress.log(`step ${e.step} ${e.name}: ${e.status}`);
  else if (e.type === 'epoch') progress.log(`  ${e.step} ${epochLine(e)}`);
  else if (e.type === 'warning') progress.log(`warning: ${e.message}`);
}

/** The summary of a run after a leg: what `--json` prints, the human lines follow from it. */
export function runSummary(store: RunStore, outcome: LegOutcome) {
  const run = store.getRun(outcome.runId)!;
  const steps = store.stepResults(outcome.runId);
  const result = outcome.result;
  const config = recipeOfRunOrNull(run);
  return {
    runId: outcome.runId,
    status: outcome.status,
    error: outcome.error,
    seed: config?.seed ?? null,
    nextStep: result?.nextStep ?? steps.length + 1,
    config,
    steps: steps.map(({ step, name, epochs, lr, lrPick, lrWarning, validLoss, validAccuracy }) => ({
      step,
      name,
      epochs,
      lr,
      ...(lrPick ? { lrPick } : {}),
      ...(lrWarning ? { lrWarning } : {}),
      validLoss,
      validAccuracy,
    })),
    /** Step 6's LRs per layer group, earliest first (what step 8 trained each group at). */
    groupLrs: differentialLrs(steps, config?.lrAll ?? null),
    ensemble: result?.ensemble
      ? {
          k: result.ensemble.k,
          validAccuracy: result.ensemble.validAccuracy,
          ...(result.ensemble.memberAccuracies ? { memberAccuracies: result.ensemble.memberAccuracies } : {}),
        }
      : null,
    swa: steps.find((s) => s.step === 8)?.swa ?? null,
    best: result?.best ?? null,
    timing: run.timing,
  };
}
export type RunSummaryJson = ReturnType<typeof runSummary>;

/** A step's LR as the run tables write it; step 6 has one per layer group, known once step 7 has run. */
export function stepLrText(s: Pick<RecipeStepResult, 'step' | 'lr' | 'lrPick'>, groupLrs: number[] | null): string {
  if (s.step === 6) return groupLrs ? `[${groupLrs.map((lr) => lr.toExponential(2)).join(', ')}]` : '- (set by step 7)';
  return `${s.lr === null ? '-' : s.lr.toExponential(2)}${s.lrPick ? ` (${s.lrPick})` : ''}`;
}

export function printSummary(summary: RunSummaryJson, io: Io): void {
  for (const s of summary.steps) {
    const acc = s.validAccuracy === null ? '' : `  valid accuracy ${(s.validAccuracy * 100).toFixed(1)}%`;
    io.out(`${s.step}. ${s.name.padEnd(24)} epochs ${s.epochs}  lr ${stepLrText(s, summary.groupLrs)}${acc}`);
    if (s.lrWarning) io.out(`   warning: ${s.lrWarning}`);
  }
  if (summary.ensemble) {
    const members = summary.ensemble.memberAccuracies?.map((a) => `${(a * 100).toFixed(1)}%`).join(', ');
    io.out(
      `snapshot ensemble of ${summary.ensemble.k}: ${(summary.ensemble.validAccuracy * 100).toFixed(1)}%` +
        (members ? ` (its members alone, oldest first: ${members})` : ''),
    );
  }
  if (summary.swa) io.out(swaLine(summary.swa));
  if (summary.timing) {
    const t: RunTiming = summary.timing;
    const timed = t.steps.filter((s) => s.actual !== null && (s.actual >= 0.5 || (s.estimate ?? 0) >= 0.5));
    io.out(`time ${timed.map((s) => timingLine(`step ${s.step}`, s)).join(', ')}`);
    io.out(timingLine('total time', t.total));
  }
  io.out(runStatusLine(summary.runId, summary));
  if (continuable(summary.status) && summary.nextStep <= 8)
    io.out(
      `continue it with: finetune resume ${summary.runId} (or finetune recipe continue ${summary.runId} ` +
        `--until-step N with new settings; from step ${summary.nextStep})`,
    );
}

function continuable(status: RunStatus): boolean {
  return status === 'paused' || status === 'cancelled' || status === 'failed';
}

/** "SWA of the last 3 cycles: 93.3%, valid loss 0.2100: exported (the best cycle: 0.2300)". */
export function swaLine(s: SwaResult): string {
  const best = s.bestValidLoss === null ? '' : ` (the best checkpoint: ${s.bestValidLoss.toFixed(4)})`;
  const what = s.kept ? 'exported' : 'not exported, the best checkpoint is';
  return `SWA of the last ${s.k} cycles: ${(s.validAccuracy * 100).toFixed(1)}%, valid loss ${s.validLoss.toFixed(4)}: ${what}${best}`;
}

/** "step 7: 1 min 20 s (estimated 1 min 10 s)". */
export function timingLine(label: string, t: { estimate: number | null; actual: number | null }): string {
  const actual = t.actual === null ? '-' : formatSeconds(t.actual);
  return `${label}: ${actual}${t.estimate === null ? '' : ` (estimated ${formatSeconds(t.estimate)})`}`;
}
