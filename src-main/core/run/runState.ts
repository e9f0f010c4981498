/**
 * A run's whole state as `run.state` sends it, assembled from the history (status, epochs, iterations, step results,
 * range tests), the run folder (checkpoint, ensemble, model) and what the controller knows of a leg in progress.
 */
import type { Message } from '../../../src-shared/messages';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  LrFindCurve,
  type HeadTrainConfig,
  type LrFindPoint,
  type RecipeConfig,
  type RunProgress,
  type RunState,
} from '../../../src-shared/contract';
import type { LrRangeTestResult } from '../lrfind/lrRangeTest';
import type { RunRow, RunStore } from '../history/runStore';
import { downsampleIterations } from '../history/compare';
import { recipeOfRun } from '../history/rerun';
import { readCheckpointState, type RecipeState } from '../recipe/checkpoint';
import { readRunEnsemble } from '../runFiles';

/** What the controller knows of a leg while it runs (nothing of it survives the process). */
export interface LiveLeg {
  untilStep: number;
  currentStep: number | null;
  progress: RunProgress | null;
  lrFindPoints: LrFindPoint[];
  warnings: string[];
  /** `warnings` as codes, in the same order (null: a warning said only in English). */
  warningMessages: Array<Message | null>;
}

/** Statuses a run continues from (its checkpoint is kept). */
export const CONTINUABLE = new Set(['paused', 'cancelled', 'interrupted', 'failed']);

/**
 * The checkpoint's state (the previous one, under `.old`, after a crash between its renames), or null when the run has
 * none (yet) or it cannot be read.
 */
export function checkpointOf(runDir: string): RecipeState | null {
  try {
    return readCheckpointState(runDir);
  } catch {
    return null;
  }
}

/** A range test as the contract sends it: JSON has no Infinity or NaN (a diverged loss becomes null). */
export function lrFindCurve(
  step: 2 | 7,
  r: Pick<
    LrRangeTestResult,
    | 'lr'
    | 'loss'
    | 'smoothedLoss'
    | 'suggestions'
    | 'rules'
    | 'ruleMessages'
    | 'minIndex'
    | 'stoppedEarly'
    | 'curve'
    | 'validLoss'
  >,
  guard: Pick<LrFindCurve, 'recommended' | 'warnings' | 'warningMessages'>,
): LrFindCurve {
  return {
    step,
    lr: r.lr,
    loss: r.loss.map(finiteOrNull),
    smoothedLoss: r.smoothedLoss.map(finiteOrNull),
    suggestions: r.suggestions,
    rules: r.rules,
    ruleMessages: r.ruleMessages,
    minIndex: r.minIndex,
    stoppedEarly: r.stoppedEarly,
    ...(r.curve ? { curve: r.curve } : {}),
    ...(r.validLoss ? { validLoss: r.validLoss.map(finiteOrNull) } : {}),
    ...guard,
  };
}

export function finiteOrNull(x: number | null): number | null {
  return x !== null && Number.isFinite(x) ? x : null;
}

/** The run's stored range tests that fit the contract (older rows without a guard are left out). */
function storedLrFinds(store: RunStore, runId: number): LrFindCurve[] {
  const out: LrFindCurve[] = [];
  for (const row of store.lrFinds(runId)) {
    const parsed = LrFindCurve.safeParse(row.result);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

export function runStateOf(
  store: RunStore,
  run: RunRow,
  runDir: string,
  live: LiveLeg | null,
  checkpoint: RecipeState | null = checkpointOf(runDir),
): RunState {
  const config: RecipeConfig = checkpoint?.config ?? recipeOfRun(run);
  const stored = run.config as Partial<HeadTrainConfig> & { untilStep?: number };
  const nextStep = checkpoint?.step ?? (run.kind === 'head' && run.status === 'completed' ? 4 : 1);
  const untilStep = live?.untilStep ?? checkpoint?.untilStep ?? stored.untilStep ?? (run.kind === 'head' ? 3 : 8);
  const rows = store.iterations(run.id);
  let ensemble: RunState['ensemble'];
  try {
    const e = readRunEnsemble(runDir);
    ensemble = e && {
      k: e.k,
      validAccuracy: e.validAccuracy,
      ...(e.memberAccuracies ? { memberAccuracies: e.memberAccuracies } : {}),
    };
  } catch {
    ensemble = null;
  }
  return {
    runId: run.id,
    kind: run.kind,
    createdAt: run.createdAt,
    status: run.status,
    config,
    untilStep,
    nextStep,
    currentStep: live?.currentStep ?? null,
    progress: live?.progress ?? null,
    classes: run.classes,
    steps: store.stepResults(run.id),
    lrFinds: storedLrFinds(store, run.id),
    lrFindPoints: live?.lrFindPoints ?? [],
    epochs: store.epochs(run.id),
    iterations: downsampleIterations(rows),
    iterationCount: rows.length,
    lrHead: checkpoint?.lrHead ?? null,
    lrAll: checkpoint?.lrAll ?? null,
    best: checkpoint?.best ?? null,
    ensemble,
    timing: run.timing,
    warnings: live?.warnings ?? [],
    warningMessages: live?.warningMessages ?? [],
    error: run.error,
    hasModel: existsSync(join(runDir, 'run.json')),
    canCancel: live !== null,
    canContinue:
      live === null && run.kind === 'fastai8' && CONTINUABLE.has(run.status) && checkpoint !== null && nextStep <= 8,
    rerunOf: run.rerunOf,
  };
}
