/**
 * The eight-step recipe (fast.ai v0.7 lessons 1–2): the only way a model is trained. A run is one or more legs over
 * the same run folder: `runRecipeLeg` starts one from step 1 or continues from the checkpoint up to `untilStep`, with
 * the caller's overrides for the steps not yet run. Every leg that stops after step 3 or later leaves an exportable
 * `runDir/model` + `run.json` (a head-only model is the recipe stopped after step 3); step 8 adds `ensemble.json`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeadTrainConfig, RecipeOverrides } from '../../../src-shared/contract';
import type { LabeledDataset } from '../data/dataset';
import { BACKBONE_ID } from '../model/backbone';
import { saveModelToDir } from '../model/modelFiles';
import { evaluate } from '../train/learner';
import { CancelledError } from '../train/precompute';
import { loadJobDataset } from '../data/runDataset';
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
import { step8Epochs } from '../../../src-shared/recipe/config';
import { englishText, type Message } from '../../../src-shared/messages';
export { step8Epochs };

export type { RecipeContext, RecipeSession };

/** One leg of a run: from step 1 with `config` ('start'), or from the run folder's checkpoint ('continue'). */
export type RecipeLeg =
  | { mode: 'start'; config: RecipeConfig; runId: number | null; untilStep?: number }
  | { mode: 'continue'; untilStep?: number; overrides?: RecipeOverrides };

/** Run one leg in `ctx.runDir` (the worker and the CLI both call this). */
export function runRecipeLeg(leg: RecipeLeg, ctx: RecipeContext): Promise<RecipeResult> {
  if (leg.mode === 'start') return recipeJob(leg.config, ctx, { runId: leg.runId, untilStep: leg.untilStep });
  return resumeRecipe(ctx.runDir, ctx, { untilStep: leg.untilStep, overrides: leg.overrides });
}

/** Start the recipe in `ctx.runDir`. */
export async function recipeJob(
  config: RecipeConfig,
  ctx: RecipeContext,
  opts: { runId?: number | null; untilStep?: number } = {},
): Promise<RecipeResult> {
  const untilStep = opts.untilStep ?? 8;
  const ds = await loadDataset(config, ctx);
  if (!ds) return cancelledBeforeSteps({ results: [], best: null, config, step: 1 });
  const state: RecipeState = {
    version: 2,
    runId: opts.runId ?? null,
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
    lastEpoch: null,
    untilStep,
  };
  const sess = await openSession(ds, state, { home: ctx.home, needsFineTuning: untilStep > 4, emit: ctx.emit });
  try {
    await saveCheckpoint(ctx.runDir, sess.clf.model, null, state);
    return await runSteps(sess, ctx, null, untilStep);
  } finally {
    closeSession(sess);
  }
}

/**
 * The config and LR state after a continuation's overrides: the LRs the user picked replace what the range tests
 * settled on (`lrHead` while steps 3–4 are to run, `lrAll` while step 8 is), recorded as 'picked'.
 */
export function applyOverrides(state: RecipeState, overrides: RecipeOverrides): RecipeState {
  const next: RecipeState = { ...state, config: { ...state.config, ...overrides } };
  if (overrides.lrHead != null && state.step <= 4) {
    next.lrHead = overrides.lrHead;
    next.lrHeadPick = 'picked';
  }
  if (overrides.lrAll != null && state.step <= 8) {
    next.lrAll = overrides.lrAll;
    next.lrAllPick = 'picked';
    next.lrAllWarning = undefined;
  }
  return next;
}

/** Continue a run (paused, cancelled, crashed or killed): same weights, optimizer state and schedule position. */
export async function resumeRecipe(
  runDir: string,
  ctx: Omit<RecipeContext, 'runDir'>,
  opts: { untilStep?: number; overrides?: RecipeOverrides } = {},
): Promise<RecipeResult> {
  const untilStep = opts.untilStep ?? 8;
  recoverCheckpoint(runDir);
  const state = { ...applyOverrides(readCheckpointState(runDir), opts.overrides ?? {}), untilStep };
  const full: RecipeContext = { ...ctx, runDir };
  const ds = await loadDataset(state.config, full);
  if (!ds) return cancelledBeforeSteps(state);
  if (ds.classes.join('\n') !== state.classes.join('\n')) {
    throw new Error(`The classes in ${state.config.dir} changed since the run started: it cannot be resumed.`);
  }
  const sess = await openSession(ds, state, { home: ctx.home, needsFineTuning: untilStep > 4, emit: ctx.emit });
  try {
    const restored = loadCheckpoint(runDir, sess.clf.model);
    return await runSteps(sess, full, restored, untilStep);
  } finally {
    closeSession(sess);
  }
}

/** The run's images, or null when the leg was cancelled while they were read. */
async function loadDataset(config: RecipeConfig, ctx: RecipeContext): Promise<LabeledDataset | null> {
  const problem = progressiveProblem(config);
  if (problem) throw new Error(problem);
  let ds: LabeledDataset;
  try {
    ds = await loadJobDataset(config, ctx.emit, undefined, ctx);
  } catch (err) {
    // The scan honours a cancel too: a cancel, not a failure (a thrown error would be stored as one).
    if (err instanceof CancelledError) return null;
    throw err;
  }
  if (ds.valid.length === 0) throw new Error(`No validation images in ${config.dir}: the recipe needs them.`);
  return ds;
}

/** A leg cancelled while it read the images: no step ran in it, the run stays where it was. */
function cancelledBeforeSteps(state: Pick<RecipeState, 'results' | 'best' | 'config' | 'step'>): RecipeResult {
  return {
    status: 'cancelled',
    error: null,
    modelDir: null,
    steps: state.results,
    ensemble: null,
    best: state.best,
    seed: state.config.seed,
    nextStep: state.step,
  };
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
  if (state.step <= 8) {
    // Paused at untilStep: from step 3 on the run has a model of its own (export, predict, evaluate).
    const modelDir = state.step > 3 ? await saveRunModel(sess, ctx) : null;
    return { ...stop(sess, 'completed'), modelDir };
  }
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
    addNote(result, { code: 'stepNote.keptStart', params: {} });
  } else if (state.best) loadWeightsInto(sess.clf.model, join(ctx.runDir, 'best'));
  const r = await evaluate(sess.clf.model, validImagesSource(sess));
  result.validLoss = r.loss;
  result.validAccuracy = r.accuracy;
}

/** Step 8 with `swa`: the averaged model, kept in the session when it beats the best checkpoint (swaStep.ts). */
async function swaAfterStep8(sess: RecipeSession, ctx: RecipeContext, result: StepResult, k: number) {
  const swa = await applySwa(sess, ctx, k, result.validLoss);
  if (!swa) {
    addNote(result, { code: 'stepNote.swaTooFew', params: { count: sess.state.snapshots.length } });
    return;
  }
  result.swa = swa;
  addNote(result, swaNote(swa));
}

/** Adds a part to a step's note: its English to `note` (logs, the CLI, the model card), its code to `noteMessages`. */
function addNote(result: StepResult, message: Message): void {
  const english = englishText(message);
  result.note = result.note ? `${result.note} ${english}` : english;
  result.noteMessages = [...(result.noteMessages ?? []), message];
}

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
  return {
    k: snaps.length,
    snapshots: snaps,
    validAccuracy: accuracyOf(averageProbabilities(probs), labels),
    memberAccuracies: probs.map((p) => accuracyOf(p, labels)),
  };
}

/**
 * The run's config as the history, export and evaluate read it (a `HeadTrainConfig`), with the recipe's own config
 * under `recipe` and the step the run stops after: the planned epochs of the steps up to it, the LR of the last
 * training step.
 */
export function recipeRunConfig(
  config: RecipeConfig,
  opts: { trainItems: number; untilStep?: number; lr?: number | null },
): HeadTrainConfig & { recipe: RecipeConfig; untilStep: number } {
  const untilStep = opts.untilStep ?? 8;
  const epochs =
    (untilStep >= 3 ? headEpochsFor(config.headEpochs, opts.trainItems) : 0) +
    (untilStep >= 4 ? config.augmentEpochs : 0) +
    (untilStep >= 8 ? step8Epochs(config.cycles, config.cycleMult) : 0);
  return {
    dir: config.dir,
    epochs: Math.max(1, epochs),
    lr: opts.lr ?? (untilStep >= 8 ? config.lrAll : null) ?? config.lrHead ?? 1e-2,
    size: config.size,
    batchSize: config.batchSize,
    seed: config.seed,
    validPct: config.validPct,
    dropout: config.dropout,
    schedule:
      untilStep >= 8
        ? { kind: 'sgdr', cycleLen: 1, cycleMult: config.cycleMult, cycles: config.cycles }
        : (config.headSchedule ?? { kind: 'constant' }),
    ...(config.backbone ? { backbone: config.backbone } : {}),
    ...(config.balance ? { balance: config.balance } : {}),
    recipe: config,
    untilStep,
  };
}

/** The session's model as the run's result (`model/` + run.json): what export, predict and evaluate read. */
async function saveRunModel(sess: RecipeSession, ctx: RecipeContext): Promise<string> {
  const { state } = sess;
  const modelDir = join(ctx.runDir, 'model');
  await saveModelToDir(sess.clf.model, modelDir);
  const lastStep = state.step - 1;
  const lr = lastStep >= 8 ? state.lrAll : state.lrHead;
  writeRunMeta(ctx.runDir, {
    classes: sess.ds.classes,
    size: state.config.size,
    backboneId: state.config.backbone ?? BACKBONE_ID,
    config: recipeRunConfig(state.config, { trainItems: sess.ds.train.length, untilStep: lastStep, lr }),
    steps: state.results,
  });
  return modelDir;
}

async function saveFinalModel(sess: RecipeSession, ctx: RecipeContext, ensemble: EnsembleInfo | null): Promise<string> {
  const { state } = sess;
  const modelDir = await saveRunModel(sess, ctx);
  // For an ensemble export: the snapshot model folders (same architecture and classes as `model/`).
  if (ensemble) {
    writeFileSync(
      join(ctx.runDir, 'ensemble.json'),
      JSON.stringify({ classes: sess.ds.classes, size: state.config.size, best: state.best, ...ensemble }, null, 2),
    );
  }
  return modelDir;
}
