/**
 * Checkpoints for resume: weights (as an exportable model folder), optimizer state and the recipe's position.
 * Optimizer slots are saved under the weight's original name (`Conv1/kernel`), not its tf.Variable name: tfjs
 * suffixes variable names (`_1`, `_2`) when a model is built twice in one process. (Not by index either:
 * `model.weights` lists trainable weights first, so its order changes with freezing.)
 * Written into a temporary folder and renamed: a crash mid-write leaves the previous checkpoint intact, and a write
 * error (disk full) removes the temporary folder and keeps the previous one.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readModelArtifacts, saveModelToDir } from '../model/modelFiles';
import type { Optimizer, OptimizerState } from '../train/optimizers';
import { z } from 'zod';
import { RecipeConfig, RecipeStepResult } from '../../../src-shared/contract';
import { readJsonFile } from '../util/json';
import { STEP_NAMES } from '../../../src-shared/recipe/config';
import { faultAt, injectedDiskFull, killSelf } from '../util/fault';

export const CHECKPOINT_DIR = 'checkpoint';

/** The validation metrics of an epoch (null where they were not finite: JSON has no NaN). */
const EpochValidation = z.object({ validLoss: z.number().nullable(), validAccuracy: z.number().nullable() });

const stateFields = {
  runId: z.number().int().nullable(),
  config: RecipeConfig,
  classes: z.array(z.string()),
  results: z.array(RecipeStepResult.extend({ name: z.enum(STEP_NAMES) })),
  /** The step to run next (1–8), or 9 when training is done. */
  step: z.number().int().min(1).max(9),
  /** Epochs of `step` already done, and the iteration where the next one starts. */
  epochsDone: z.number().int().min(0),
  iteration: z.number().int().min(0),
  lrHead: z.number().nullable(),
  lrAll: z.number().nullable(),
  /** How `lrHead` and `lrAll` were chosen: a rule, 'config', or 'picked' (a continuation's override). */
  lrHeadPick: z.string().optional(),
  lrAllPick: z.string().optional(),
  /** Step 7's guard flagged the recommended `lrAll` (lrGuard.ts). */
  lrAllWarning: z.string().optional(),
  /** The step the current leg stops after (run.start/run.continue `untilStep`). */
  untilStep: z.number().int().min(1).max(8).optional(),
  /** Step 8's bookkeeping. */
  best: z.object({ step: z.number().int(), cycle: z.number().int(), validLoss: z.number() }).nullable(),
  cyclesSinceBest: z.number().int().min(0),
  snapshots: z.array(z.string()),
  stoppedEarly: z.boolean(),
};

/**
 * Where the recipe is: the next step to run and how far into it. Version 2 adds `lastEpoch`; the seeded streams
 * (shuffle, augmentation, mixing, dropout) need no position of their own: each is derived from the run seed and the
 * step, epoch and batch (seededDropout.ts, dataSources.ts), so resuming at an epoch repeats the run's draws.
 */
const RecipeStateV2 = z.object({
  version: z.literal(2),
  ...stateFields,
  /** Validation of the last epoch of `step` done: the step's result when a resume finds all its epochs done. */
  lastEpoch: EpochValidation.nullable(),
});

/**
 * Version 1 (before resumes repeated runs): read as version 2 without `lastEpoch`. Such a run resumes and finishes,
 * but its dropout masks came from a per-process count, so it does not repeat what an uninterrupted run would do.
 */
const RecipeStateV1 = z
  .object({ version: z.literal(1), ...stateFields })
  .transform((v1): z.infer<typeof RecipeStateV2> => ({ ...v1, version: 2, lastEpoch: null }));

export const RecipeState = z.union([RecipeStateV2, RecipeStateV1]);
export type RecipeState = z.infer<typeof RecipeState>;

const SlotIndex = z.object({
  step: z.number().int().min(0),
  slots: z.array(z.object({ weight: z.string(), shape: z.array(z.number().int()), count: z.number().int() })),
});
type SlotIndex = z.infer<typeof SlotIndex>;

const DAMAGED = 'The checkpoint is damaged: start the run again (or continue from an earlier copy of the run folder).';

/** Copy saved weights (a folder written by saveModelToDir) into a model of the same architecture. */
export function loadWeightsInto(model: tf.LayersModel, dir: string): void {
  const a = readModelArtifacts(dir);
  const named = tf.io.decodeWeights(a.weightData as ArrayBuffer, a.weightSpecs ?? []);
  try {
    for (const v of model.weights) {
      const t = named[v.originalName];
      if (!t) throw new Error(`${dir} has no weight ${v.originalName}`);
      v.write(t);
    }
  } finally {
    tf.dispose(named);
  }
}

function saveOptimizer(model: tf.LayersModel, state: OptimizerState, dir: string): void {
  const original = new Map(model.weights.map((v) => [(v.read() as tf.Variable).name, v.originalName]));
  const index: SlotIndex = { step: state.step, slots: [] };
  const parts: Float32Array[] = [];
  for (const [name, slot] of Object.entries(state.slots)) {
    const weight = original.get(name);
    if (weight === undefined) continue;
    index.slots.push({ weight, shape: slot.shape, count: slot.values.length });
    parts.push(...slot.values);
  }
  const bytes = Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
  writeFileSync(join(dir, 'optimizer.bin'), bytes);
  writeFileSync(join(dir, 'optimizer.json'), JSON.stringify(index));
}

function loadOptimizer(model: tf.LayersModel, dir: string): OptimizerState | null {
  if (!existsSync(join(dir, 'optimizer.json'))) return null;
  const index = readJsonFile(join(dir, 'optimizer.json'), SlotIndex, DAMAGED);
  const buf = readFileSync(join(dir, 'optimizer.bin'));
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const byOriginal = new Map(model.weights.map((v) => [v.originalName, (v.read() as tf.Variable).name]));
  const state: OptimizerState = { step: index.step, slots: {} };
  let offset = 0;
  for (const s of index.slots) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: s.count }, (_, k) => all.slice(offset + k * size, offset + (k + 1) * size));
    offset += s.count * size;
    const name = byOriginal.get(s.weight);
    if (!name) throw new Error(`The checkpoint's optimizer state names a weight ${s.weight} the model does not have.`);
    state.slots[name] = { shape: s.shape, values };
  }
  return state;
}

/** A checkpoint that could not be written (disk full, no permission): the previous one is kept. */
export class CheckpointWriteError extends Error {
  constructor(
    readonly dir: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException | null)?.code;
    const why =
      code === 'ENOSPC' || code === 'EDQUOT'
        ? 'the disk is full'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'permission denied (or a read-only disk)'
          : (cause instanceof Error ? cause.message : String(cause)).split('\n')[0];
    super(
      `Could not save the checkpoint in ${dir}: ${why}. The previous checkpoint is kept: free some disk space ` +
        `(or make the folder writable) and resume the run.`,
      { cause },
    );
    this.name = 'CheckpointWriteError';
  }
}

export async function saveCheckpoint(
  runDir: string,
  model: tf.LayersModel,
  optimizer: Optimizer | null,
  state: RecipeState,
): Promise<void> {
  const final = join(runDir, CHECKPOINT_DIR);
  const tmp = `${final}.tmp`;
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    await saveModelToDir(model, join(tmp, 'model'));
    if (optimizer) saveOptimizer(model, optimizer.getState(), tmp);
    const json = JSON.stringify(state, null, 2);
    if (faultAt('checkpoint-write-error')) throw injectedDiskFull(join(tmp, 'state.json'));
    if (faultAt('checkpoint-write')) {
      writeFileSync(join(tmp, 'state.json'), json.slice(0, json.length >> 1));
      killSelf();
    }
    writeFileSync(join(tmp, 'state.json'), json);
  } catch (err) {
    // Nothing half-written stays behind; `final` was not touched.
    rmSync(tmp, { recursive: true, force: true });
    throw new CheckpointWriteError(runDir, err);
  }
  rmSync(`${final}.old`, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, `${final}.old`);
  if (faultAt('checkpoint-swap')) killSelf();
  renameSync(tmp, final);
  rmSync(`${final}.old`, { recursive: true, force: true });
}

/**
 * Tidies what a crash mid-save left, before a resume: the temporary folder (never read) is removed, and a checkpoint
 * left only under `.old` (a crash between the renames) is moved back, so the next save cannot remove the last one.
 */
export function recoverCheckpoint(runDir: string): void {
  const final = join(runDir, CHECKPOINT_DIR);
  rmSync(`${final}.tmp`, { recursive: true, force: true });
  if (!existsSync(join(final, 'state.json')) && existsSync(join(`${final}.old`, 'state.json'))) {
    rmSync(final, { recursive: true, force: true });
    renameSync(`${final}.old`, final);
  }
  rmSync(`${final}.old`, { recursive: true, force: true });
}

export function readCheckpointState(runDir: string): RecipeState {
  let dir = join(runDir, CHECKPOINT_DIR);
  // A crash between the two renames leaves only the previous checkpoint, under `.old`.
  if (!existsSync(join(dir, 'state.json')) && existsSync(join(`${dir}.old`, 'state.json'))) dir = `${dir}.old`;
  const path = join(dir, 'state.json');
  if (!existsSync(path)) throw new Error(`${runDir} has no recipe checkpoint to resume from.`);
  return readJsonFile(path, RecipeState, DAMAGED);
}

function checkpointDir(runDir: string): string {
  const dir = join(runDir, CHECKPOINT_DIR);
  return existsSync(join(dir, 'state.json')) ? dir : `${dir}.old`;
}

/** Weights into the model; returns the optimizer state saved with them (null when there was none). */
export function loadCheckpoint(runDir: string, model: tf.LayersModel): OptimizerState | null {
  const dir = checkpointDir(runDir);
  loadWeightsInto(model, join(dir, 'model'));
  return loadOptimizer(model, dir);
}
