/** Files the app wrote and reads back (run.json, ensemble.json, checkpoint state) are checked, with a clear error. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunEnsemble, readRunMeta, writeRunMeta } from '../../src-main/core/runFiles';
import { readCheckpointState, CHECKPOINT_DIR } from '../../src-main/core/recipe/checkpoint';
import { DEFAULT_HEAD_CONFIG } from '../../src-shared/defaults';
import { tinyRecipeConfig } from '../helpers/recipe';

const runDir = () => mkdtempSync(join(tmpdir(), 'ft-runfiles-'));

test('run.json: what was written reads back; a damaged or foreign one is named with the fix', () => {
  const dir = runDir();
  const meta = {
    classes: ['cat', 'dog'],
    size: 64,
    backboneId: 'mobilenet_v2',
    config: { ...DEFAULT_HEAD_CONFIG, dir },
  };
  writeRunMeta(dir, { ...meta, steps: [] });
  assert.deepEqual(readRunMeta(dir), meta);

  writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...meta, size: 'big' }));
  assert.throws(
    () => readRunMeta(dir),
    (err: Error) =>
      err.message.startsWith(join(dir, 'run.json')) &&
      /does not have the expected content \(size: /.test(err.message) &&
      /Train the run again/.test(err.message),
  );
  writeFileSync(join(dir, 'run.json'), '{"classes": [');
  assert.throws(() => readRunMeta(dir), /run\.json is not valid JSON/);
  assert.throws(() => readRunMeta(runDir()), /has no trained model \(run\.json missing\)/);
});

test('ensemble.json: absent is null, a snapshot list reads back, a list without snapshots is refused', () => {
  const dir = runDir();
  assert.equal(readRunEnsemble(dir), null);
  const ensemble = { k: 2, snapshots: ['snapshots/cycle-2', 'snapshots/cycle-3'], validAccuracy: 0.75 };
  writeFileSync(join(dir, 'ensemble.json'), JSON.stringify({ classes: ['a'], ...ensemble }));
  assert.deepEqual(readRunEnsemble(dir), ensemble);
  writeFileSync(join(dir, 'ensemble.json'), JSON.stringify({ ...ensemble, snapshots: [] }));
  assert.throws(() => readRunEnsemble(dir), /ensemble\.json does not have the expected content \(snapshots: /);
});

test('checkpoint state: a damaged state.json says so and what to do instead of resuming from garbage', () => {
  const dir = runDir();
  mkdirSync(join(dir, CHECKPOINT_DIR));
  writeFileSync(join(dir, CHECKPOINT_DIR, 'state.json'), JSON.stringify({ version: 1, step: 12 }));
  assert.throws(
    () => readCheckpointState(dir),
    (err: Error) =>
      err.message.includes(join(dir, CHECKPOINT_DIR, 'state.json')) &&
      /does not have the expected content/.test(err.message) &&
      /checkpoint is damaged/.test(err.message),
  );
});

test('checkpoint state: a version 1 state.json (before resumes repeated runs) reads as version 2, without lastEpoch', () => {
  const dir = runDir();
  mkdirSync(join(dir, CHECKPOINT_DIR));
  const v1 = {
    version: 1,
    runId: 4,
    config: tinyRecipeConfig(dir),
    classes: ['a', 'b'],
    results: [],
    step: 4,
    epochsDone: 1,
    iteration: 3,
    lrHead: 0.01,
    lrAll: null,
    best: null,
    cyclesSinceBest: 0,
    snapshots: [],
    stoppedEarly: false,
  };
  writeFileSync(join(dir, CHECKPOINT_DIR, 'state.json'), JSON.stringify(v1));
  assert.deepEqual(readCheckpointState(dir), { ...v1, version: 2, lastEpoch: null });
  writeFileSync(join(dir, CHECKPOINT_DIR, 'state.json'), JSON.stringify({ ...v1, version: 2 }));
  assert.throws(() => readCheckpointState(dir), /checkpoint is damaged/, 'version 2 must say where the last epoch was');
});
