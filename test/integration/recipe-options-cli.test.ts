/**
 * Every option the help's "Measured" table names is a flag `finetune train --recipe fastai8` takes, and it reaches
 * the run's stored config (the table's flags are the evaluation's, which ran bench-recipe; a flag only the bench
 * knew would send a reader of the help to an error).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliWorkspace, finetune, lastJson } from '../helpers/cli';
import { makeShapeDataset } from '../helpers/images';
import { MEASURED_EFFECTS } from '../../src-shared/recipe/measuredEffects';

const { data, env } = cliWorkspace('ft-options-');
await makeShapeDataset(data, { perClass: 6, size: 32, seed: 3 });

/** Each measured option's flags, and what the stored config must then say. */
const EXPECTED: Record<string, Record<string, unknown>> = {
  '--mixup 0.4': { mix: { kind: 'mixup', alpha: 0.4 } },
  '--cutmix 1': { mix: { kind: 'cutmix', alpha: 1 } },
  '--swa 2': { swa: 2 },
  '--lr-find-on valid': { lrFindOn: 'valid' },
  '--progressive 64': { progressive: [64] },
  '--optimizer sgd': { optimizer: 'sgd' },
  '--train-bn': { trainBatchNorm: true },
  '--lr-rule valley': { lrRule: 'valley' },
  '--warmup-epochs 0': { warmupEpochs: 0 },
  '--preset none': { preset: 'none' },
  '--preset top-down': { preset: 'top-down' },
};

test('each measured option is a flag of finetune train --recipe, stored in the run config', () => {
  const flags = Object.values(MEASURED_EFFECTS.options).map((e) => e.flags);
  assert.deepEqual([...flags].sort(), Object.keys(EXPECTED).sort(), 'a measured option without a check here');
  for (const flag of flags) {
    // 96 px so that --progressive 64 is a smaller size; step 1 only (the config is stored when the run starts).
    const args = ['train', data, '--recipe', 'fastai8', '--size', '96', '--until-step', '1', '--cycles', '2'];
    const r = finetune([...args, ...flag.split(' '), '--json'], env);
    assert.equal(r.status, 0, `${flag}: ${r.stderr}`);
    const { runId } = lastJson<{ runId: number }>(r);
    const shown = lastJson<{ config: Record<string, unknown> }>(
      finetune(['runs', 'show', String(runId), '--json'], env),
    );
    for (const [key, value] of Object.entries(EXPECTED[flag]!)) assert.deepEqual(shown.config[key], value, flag);
  }
});
