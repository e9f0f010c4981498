/**
 * A resumed run repeats the run that was never stopped, bit for bit (issue 22): one tiny recipe run (3 classes × 10
 * generated images, 32 px, mixup, SWA) runs through on the real CLI, and the same command is killed with SIGKILL
 * four times and resumed after each: twice inside step 3's checkpoint writes (a FINETUNE_FAULT hook: step 3's epochs
 * on precomputed activations take milliseconds, too short to aim a signal at), after a seeded-random epoch line of
 * step 4 (augmentation and mixing streams, dropout on the head) and after the second epoch line of step 8 (mid SGDR
 * cycle 2, with cycle 1's snapshot, the best checkpoint and patience in the checkpoint). Every epoch's losses and
 * accuracy, every iteration's loss and LR, every step's result, the final summary and the saved weights must equal
 * the uninterrupted run's exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliWorkspace, finetune, lastJson } from '../helpers/cli';
import { makeShapeDataset } from '../helpers/images';
import { completeCheckpoint, runCli, type Stopped } from '../helpers/faults';
import { mulberry32 } from '../../src-main/core/util/random';

const SEED = Number(process.env.RESUME_SEED ?? 17);
const rand = mulberry32(SEED);
const { home, data, env } = cliWorkspace('ft-resume-');
await makeShapeDataset(data, { perClass: 10, size: 32, seed: 5 });
const TRAIN = ['train', data, '--recipe', 'fastai8', '--size', '32', '--batch-size', '8', '--seed', '11'].concat([
  '--cycles',
  '2',
  '--lr-find-iters',
  '8',
  '--lr-find-all-iters',
  '8',
  '--mixup',
  '0.4',
  '--swa',
  '2',
]);

const runIdOf = (r: Stopped) => Number(/^run (\d+):/m.exec(r.stderr)?.[1] ?? /"runId":(\d+)/.exec(r.stdout)?.[1]);
const runDir = (id: number) => join(home, 'runs', String(id));

interface ShownRun {
  metrics: Array<Record<string, unknown>>;
  iterations: unknown[];
  steps: unknown[];
}

/** What `finetune runs show ID --json` records of the training, less the wall-clock seconds of each epoch. */
function recorded(id: number) {
  const shown = lastJson<ShownRun>(finetune(['runs', 'show', String(id), '--json'], env));
  return {
    epochs: shown.metrics.map(({ seconds: _, ...m }) => m),
    iterations: shown.iterations,
    steps: shown.steps,
  };
}

/** The `--json` summary less what differs between two runs of one command (its id, its clock). */
function summary(r: Stopped) {
  const { runId: _, timing: __, ...rest } = lastJson<Record<string, unknown>>({ status: r.code ?? -1, ...r });
  return rest;
}

const weights = (id: number, folder: string) => readFileSync(join(runDir(id), folder, 'weights.bin'));

test(`kill -9 in steps 3 (twice), 4 and 8, each resumed: the run repeats the uninterrupted one exactly (RESUME_SEED=${SEED})`, async (t) => {
  const whole = await runCli([...TRAIN, '--json'], env);
  assert.equal(whole.code, 0, whole.stderr);
  const ref = runIdOf(whole);

  // Checkpoint writes: the run's start, steps 1 and 2, then step 3's epochs 0 and 1, then step 3's end. Killed in
  // write 5, the run resumes after epoch 0; the resume killed in its own write 2 (step 3's end) leaves every epoch of
  // step 3 done, and the next resume must still report step 3's metrics.
  const inStep3 = await runCli(TRAIN, { ...env, FINETUNE_FAULT: 'checkpoint-write:5' });
  assert.equal(inStep3.signal, 'SIGKILL', inStep3.stderr);
  const id = runIdOf(inStep3);
  assert.ok(id > 0 && id !== ref, inStep3.stderr);
  const position = () => {
    const { step, epochsDone } = completeCheckpoint(runDir(id)).state;
    return { step, epochsDone };
  };
  assert.deepEqual(position(), { step: 3, epochsDone: 1 }, 'killed inside step 3');
  const endOf3 = await runCli(['resume', String(id)], { ...env, FINETUNE_FAULT: 'checkpoint-write:2' });
  assert.equal(endOf3.signal, 'SIGKILL', endOf3.stderr);
  assert.deepEqual(position(), { step: 3, epochsDone: 2 }, "killed at step 3's end");

  const resumeKilledIn = async (step: string, lines: number) => {
    const r = await runCli(['resume', String(id)], env, { afterEpochs: lines, signal: 'SIGKILL', step });
    assert.ok(r.sent && r.signal === 'SIGKILL', `killed after ${step}'s epoch line ${lines}: ${r.stderr}`);
    const { state } = completeCheckpoint(runDir(id));
    t.diagnostic(`killed after ${step}'s epoch line ${lines}: resumes in step ${state.step} at ${state.epochsDone}`);
    return state;
  };
  // The signal usually lands before the printed epoch's checkpoint is written (it follows the history row), so a
  // kill after line L resumes at epoch L − 1 or L. Step 4 (3 epochs): after line 1 or 2, picked by the seed. Step 8
  // (cycles of 1 and 2 epochs): after line 2, so it resumes after cycle 1's snapshot and best, before the step ends.
  const after4 = await resumeKilledIn('step4-augment', 1 + Math.floor(rand() * 2));
  assert.equal(after4.step, 4, 'the kill landed in step 4');
  const after8 = await resumeKilledIn('step8-all', 2);
  assert.equal(after8.step, 8, 'the kill landed in step 8');
  assert.ok(after8.epochsDone >= 1, 'after the first cycle');
  assert.deepEqual([after8.snapshots, after8.best?.cycle], [['snapshots/cycle-1'], 1], "cycle 1's snapshot and best");

  const rest = await runCli(['resume', String(id), '--json'], env);
  assert.equal(rest.code, 0, rest.stderr);

  const [a, b] = [recorded(ref), recorded(id)];
  assert.equal(a.epochs.length, 2 + 3 + 3, 'every epoch of steps 3, 4 and 8');
  assert.deepEqual(b.epochs, a.epochs, "every epoch's train and valid loss, accuracy and LR");
  assert.deepEqual(b.iterations, a.iterations, "every iteration's loss and LR");
  assert.deepEqual(b.steps, a.steps, "every step's result (SWA and the snapshot ensemble included)");
  assert.deepEqual(summary(rest), summary(whole), 'the final summary');
  for (const folder of ['model', 'best', 'swa', 'snapshots/cycle-1', 'snapshots/cycle-2'])
    assert.ok(weights(id, folder).equals(weights(ref, folder)), `${folder}/weights.bin is the same, byte for byte`);
});
