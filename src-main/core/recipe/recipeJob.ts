/**
 * The eight-step recipe as one job (fast.ai v0.7 lessons 1–2), for the CLI and the app's training worker:
 * `recipeJob` runs it from scratch, `resumeRecipe` continues an interrupted run from its last checkpoint.
 * Both end like the head job: `runDir/model` + `run.json` (exportable), plus `ensemble.json` for the snapshots.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeadTrainConfig } from '../../../src-shared/contract';
import type { LabeledDataset } from '../data/dataset';
import { BACKBONE_ID } from '../model/backbone';
import { saveModelToDir } from '../model/modelFiles';
import { evaluate } from '../train/learner';
import { CancelledError } from '../train/precompute';
import { loadJobDataset } from '../train/headJob';
import { writeRunMeta } from '../runFiles';
import type { OptimizerState } from '../train/optimizers';
import {
  loadCheckpoint,
  loadWeightsInto,
  readCheckpointState,
  recoverCheckpoint,
  saveCheckpoint,
  type RecipeState,
} from './checkpoint';
import { accuracyOf, averageProbabilities, lastSnapshots } from './ensemble';
import { freeze, unfreeze } from './freeze';
import { applySwa, keptWeightsDir, swaNote } from './swaStep';
import { progressiveProblem } from './progressive';
import { closeSession, openSession, validImagesSource, type RecipeContext, type RecipeSession } from './session';
import { headEpochsFor, step1Precompute, BEFORE_STEP8_DIR, RECIPE_STEPS } from './steps';
import { type EnsembleInfo, type RecipeConfig, type RecipeResult, type StepResult } from './types';
import { step8Epochs } from './types';
export { step8Epochs };

export type { RecipeContext, RecipeSession };

export interface RecipeRunOptions {
  /** Stop after this step (1–8; default 8); `resumeRecipe` goes on from there. */
  untilStep?: number;
  /** On resume: config changes for the steps still to run (e.g. `cycles`, `lrAll`). */
  overrides?: Partial<Omit<RecipeConfig, 'dir' | 'seed' | 'validPct' | 'size'>>;
}

/** Start the recipe in `ctx.runDir`. */
export async function recipeJob(
  config: RecipeConfig,
  ctx: RecipeContext,
  runId: number | null = null,
  opts: RecipeRunOptions = {},
): Promise<RecipeResult> {
  const ds = await loadDataset(config, ctx);
  const state: RecipeState = {
    version: 1,
    runId,
    config,
    classes: ds.classes,
    results: [],
    step: 1,
    epochsDone: 0,
    iteration: 0,
    lrHead: null,
    lrAll: null,
    best: null,
    cyclesSinceBest: 0,
    snapshots: [],
    stoppedEarly: false,
  };
  const sess = await openSession(ds, state, ctx);
  try {
    await saveCheckpoint(ctx.runDir, sess.clf.model, null, state);
    return await runSteps(sess, ctx, null, opts.untilStep ?? 8);
  } finally {
    closeSession(sess);
  }
}

/** Continue a run interrupted by cancel, crash or kill: same weights, optimizer state and schedule position. */
export async function resumeRecipe(
  runDir: string,
  ctx: Omit<RecipeContext, 'runDir'>,
  opts: RecipeRunOptions = {},
): Promise<RecipeResult> {
  recoverCheckpoint(runDir);
  const state = readCheckpointState(runDir);
  state.config = { ...state.config, ...opts.overrides };
  const full: RecipeContext = { ...ctx, runDir };
  const ds = await loadDataset(state.config, full);
  if (ds.classes.join('\n') !== state.classes.join('\n')) {
    throw new Error(`The classes in ${state.config.dir} changed since the run started: it cannot be resumed.`);
  }
  const sess = await openSession(ds, state, ctx);
  try {
    const restored = loadCheckpoint(runDir, sess.clf.model);
    return await runSteps(sess, full, restored, opts.untilStep ?? 8);
  } finally {
    closeSession(sess);
  }
}

async function loadDataset(config: RecipeConfig, ctx: RecipeContext): Promise<LabeledDataset> {
  const problem = progressiveProblem(config);
  if (problem) throw new Error(problem);
  const ds = await loadJobDataset(config, ctx.emit, undefined, ctx);
  if (ds.valid.length === 0) throw new Error(`No validation images in ${config.dir}: the recipe needs them.`);
  return ds;
}

function stop(sess: RecipeSession, status: RecipeResult['status'], error: string | null = null): RecipeResult {
  return {
    status,
    error,
    modelDir: null,
    steps: sess.state.results,
    ensemble: null,
    best: sess.state.best,
    seed: sess.state.config.seed,
    nextStep: sess.state.step,
  };
}

async function runSteps(
  sess: RecipeSession,
  ctx: RecipeContext,
  restored: OptimizerState | null,
  untilStep: number,
): Promise<RecipeResult> {
  const { state } = sess;
  try {
    // Activations are needed by steps 2–4 and are cached on disk: recomputing them on resume is cheap.
    if (state.step > 1) {
      const pre = await step1Precompute(sess, ctx);
      if (!pre.ok) return stop(sess, pre.status);
    }
    // Freezing is not in the checkpoint: it follows from the step.
    if (state.step > 5) unfreeze(sess.clf.model, sess.groups);
    else freeze(sess.clf.model, sess.groups);
    while (state.step <= Math.min(8, untilStep)) {
      if (ctx.shouldCancel()) return stop(sess, 'cancelled');
      const { step, name, trains, run } = RECIPE_STEPS[state.step - 1]!;
      ctx.emit({ type: 'step', step, name, status: 'started' });
      await ctx.inspect?.(step, 'before', sess);
      const out = await run(sess, ctx, trains && state.epochsDone > 0 ? restored : null);
      if (!out.ok) return stop(sess, out.status, out.error ?? null);
      if (step === 8) await finishStep8(sess, ctx, out.result);
      if (step === 8 && state.config.swa) await swaAfterStep8(sess, ctx, out.result, state.config.swa);
      await ctx.inspect?.(step, 'after', sess);
      state.results.push(out.result);
      ctx.emit({ type: 'step', step, name, status: 'done', result: out.result });
      state.step++;
      state.epochsDone = 0;
      state.iteration = 0;
      await saveCheckpoint(ctx.runDir, sess.clf.model, null, state);
    }
  } catch (err) {
    if (err instanceof CancelledError) return stop(sess, 'cancelled');
    throw err;
  }
  if (state.step <= 8) return stop(sess, 'completed');
  const ensemble = await snapshotEnsemble(sess, ctx);
  const modelDir = await saveFinalModel(sess, ctx, ensemble);
  return {
    status: 'completed',
    error: null,
    modelDir,
    steps: state.results,
    ensemble,
    best: state.best,
    seed: state.config.seed,
    nextStep: 9,
  };
}

/**
 * Restore the best checkpoint (by validation loss) and report its metrics as step 8's. Step 8 never ends below where
 * it started: when no cycle beat step 4's validation loss, its starting weights become the best (a too-high LR can
 * leave every cycle at chance).
 */
async function finishStep8(sess: RecipeSession, ctx: RecipeContext, result: StepResult) {
  const { state } = sess;
  const start = state.results.find((r) => r.step === 4)?.validLoss ?? null;
  if (state.best && start !== null && start < state.best.validLoss) {
    loadWeightsInto(sess.clf.model, join(ctx.runDir, BEFORE_STEP8_DIR));
    await saveModelToDir(sess.clf.model, join(ctx.runDir, 'best'));
    state.best = { step: 4, cycle: 0, validLoss: start };
    result.bestCycle = 0;
    result.note = "No cycle beat step 4's validation loss: the weights step 8 started from are kept.";
  } else if (state.best) loadWeightsInto(sess.clf.model, join(ctx.runDir, 'best'));
  const r = await evaluate(sess.clf.model, validImagesSource(sess));
  result.validLoss = r.loss;
  result.validAccuracy = r.accuracy;
}

/** Step 8 with `swa`: the averaged model, kept in the session when it beats the best checkpoint (swaStep.ts). */
async function swaAfterStep8(sess: RecipeSession, ctx: RecipeContext, result: StepResult, k: number) {
  const swa = await applySwa(sess, ctx, k, result.validLoss);
  if (!swa) {
    result.note = joinNotes(
      result.note,
      `SWA needs at least 2 cycle snapshots (step 8 saved ${sess.state.snapshots.length}).`,
    );
    return;
  }
  result.swa = swa;
  result.note = joinNotes(result.note, swaNote(swa));
}

const joinNotes = (a: string | undefined, b: string) => (a ? `${a} ${b}` : b);

/** Average the last K snapshots' predictions on the validation images; the kept weights are put back after. */
async function snapshotEnsemble(sess: RecipeSession, ctx: RecipeContext): Promise<EnsembleInfo | null> {
  const snaps = lastSnapshots(sess.state.snapshots, sess.state.config.ensembleK);
  if (snaps.length === 0) return null;
  const valid = validImagesSource(sess);
  const probs: Float32Array[][] = [];
  for (const rel of snaps) {
    loadWeightsInto(sess.clf.model, join(ctx.runDir, rel));
    probs.push((await evaluate(sess.clf.model, valid)).probabilities);
  }
  if (sess.state.best) loadWeightsInto(sess.clf.model, join(ctx.runDir, keptWeightsDir(sess)));
  const labels = sess.ds.valid.map((i) => i.label);
  return { k: snaps.length, snapshots: snaps, validAccuracy: accuracyOf(averageProbabilities(probs), labels) };
}

/**
 * The run's config as the head job's (what the history, export and evaluate read), with the recipe's own config
 * under `recipe`: planned epochs of steps 3, 4 and 8, the LR of the last training step.
 */
export function recipeRunConfig(
  config: RecipeConfig,
  trainItems: number,
  lr: number | null,
): HeadTrainConfig & { recipe: RecipeConfig } {
  return {
    dir: config.dir,
    epochs:
      headEpochsFor(config.headEpochs, trainItems) +
      config.augmentEpochs +
      step8Epochs(config.cycles, config.cycleMult),
    lr: lr ?? config.lrAll ?? config.lrHead ?? 1e-2,
    size: config.size,
    batchSize: config.batchSize,
    seed: config.seed,
    validPct: config.validPct,
    dropout: config.dropout,
    schedule: { kind: 'sgdr', cycleLen: 1, cycleMult: config.cycleMult, cycles: config.cycles },
    recipe: config,
  };
}

async function saveFinalModel(sess: RecipeSession, ctx: RecipeContext, ensemble: EnsembleInfo | null): Promise<string> {
  const { state } = sess;
  const modelDir = join(ctx.runDir, 'model');
  await saveModelToDir(sess.clf.model, modelDir);
  writeRunMeta(ctx.runDir, {
    classes: sess.ds.classes,
    size: state.config.size,
    backboneId: state.config.backbone ?? BACKBONE_ID,
    config: recipeRunConfig(state.config, sess.ds.train.length, state.lrAll),
    steps: state.results,
  });
  // For an ensemble export: the snapshot model folders (same architecture and classes as `model/`).
  if (ensemble) {
    writeFileSync(
      join(ctx.runDir, 'ensemble.json'),
      JSON.stringify({ classes: sess.ds.classes, size: state.config.size, best: state.best, ...ensemble }, null, 2),
    );
  }
  return modelDir;
}
