/**
 * The run history's newer tables (step results, iterations) and what uses them: migration from every earlier
 * schema with data intact, batched iteration writes, deletion from every table, and the comparison payload.
 * All on real SQLite files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, RunStore, SCHEMA_VERSION, type IterationRow } from '../../src-main/core/history/runStore';
import {
  compareRuns,
  configDiff,
  deleteRunWithFolder,
  downsampleIterations,
  RunBusyError,
  UnknownRunError,
} from '../../src-main/core/history/compare';
import { recordRunEvent } from '../../src-main/core/history/recorder';
import { requests } from '../../src-shared/contract';
import type { StepResult } from '../../src-main/core/recipe/types';

const file = () => join(mkdtempSync(join(tmpdir(), 'ft-hist-')), 'history.sqlite');

const STEP3: StepResult = {
  step: 3,
  name: 'step3-head',
  epochs: 1,
  lr: 0.01,
  validLoss: 0.8,
  validAccuracy: 0.7,
};

/** A history file at schema `version`, built from the migration list, with one run's rows in every table it has. */
function historyAt(version: number): string {
  const path = file();
  const raw = new Database(path);
  for (let v = 0; v < version; v++) raw.exec(MIGRATIONS[v]!);
  raw.pragma(`user_version = ${version}`);
  if (version >= 1) {
    raw
      .prepare(
        `INSERT INTO runs (created_at, dir, kind, status, backend, config, dataset, classes)
         VALUES ('2025-01-01T00:00:00Z', '/old', 'fastai8', 'completed', 'cpu', '{"lr":0.01}', '{}', '["a","b"]')`,
      )
      .run();
    raw.prepare(`INSERT INTO epochs VALUES (1, 'step3-head', 0, 1.5, 1.2, 0.6, 0.01, 2)`).run();
    raw
      .prepare(`INSERT INTO lr_finds (run_id, stage, created_at, result) VALUES (1, 'head', 'now', '{"lr":[1]}')`)
      .run();
  }
  if (version >= 2) raw.prepare(`UPDATE runs SET owner_pid = 1, owner_host = 'elsewhere'`).run();
  if (version >= 3) raw.prepare(`UPDATE runs SET timing = '{"steps":[],"total":{"estimate":5,"actual":6}}'`).run();
  if (version >= 4)
    raw.prepare(`INSERT INTO step_results VALUES (1, 3, 'step3-head', 'now', ?)`).run(JSON.stringify(STEP3));
  raw.close();
  return path;
}

for (let version = 0; version < SCHEMA_VERSION; version++) {
  test(`a schema-${version} history migrates to ${SCHEMA_VERSION} with its data intact and every table usable`, () => {
    const store = new RunStore(historyAt(version));
    assert.equal(store.schemaVersion(), SCHEMA_VERSION);
    let id: number;
    if (version >= 1) {
      const run = store.getRun(1)!;
      assert.equal(run.dir, '/old');
      assert.deepEqual(run.config, { lr: 0.01 });
      assert.deepEqual(run.classes, ['a', 'b']);
      assert.equal(run.timing?.total.actual ?? null, version >= 3 ? 6 : null);
      assert.deepEqual(
        store.epochs(1).map((e) => [e.step, e.validAccuracy]),
        [['step3-head', 0.6]],
      );
      assert.deepEqual(store.lrFinds(1)[0]!.result, { lr: [1] });
      assert.deepEqual(store.stepResults(1), version >= 4 ? [STEP3] : []);
      id = 1;
    } else {
      id = store.createRun({ dir: '/new', kind: 'head', backend: 'cpu', config: {}, dataset: {}, classes: [] });
    }
    // The new tables take rows on a migrated file.
    store.addStepResult(id, { ...STEP3, step: 4, name: 'step4-augment' });
    store.addIteration(id, { step: 'step4-augment', epoch: 0, iteration: 0, loss: 1, lr: 0.001 });
    assert.equal(store.iterations(id).length, 1);
    assert.equal(store.stepResults(id).at(-1)!.name, 'step4-augment');
    store.close();
  });
}

/** How many rows each table that has a run_id column holds for `runId`: every table, so new ones are covered. */
function rowsPerTable(path: string, runId: number): Record<string, number> {
  const raw = new Database(path, { readonly: true });
  const tables = (raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>)
    .map((t) => t.name)
    .filter((t) => t !== 'sqlite_sequence');
  const out: Record<string, number> = {};
  for (const t of tables) {
    const cols = (raw.prepare(`PRAGMA table_info(${t})`).all() as Array<{ name: string }>).map((c) => c.name);
    const col = t === 'runs' ? 'id' : cols.includes('run_id') ? 'run_id' : null;
    assert.ok(col, `table ${t} has no run id column: deleteRun must learn about it`);
    out[t] = (raw.prepare(`SELECT COUNT(*) AS n FROM ${t} WHERE ${col} = ?`).get(runId) as { n: number }).n;
  }
  raw.close();
  return out;
}

function seedRun(store: RunStore, iterations: number): number {
  const id = store.createRun({ dir: '/d', kind: 'fastai8', backend: 'cpu', config: {}, dataset: {}, classes: [] });
  store.addEpoch(id, { step: 'head', epoch: 0, trainLoss: 1, validLoss: 1, validAccuracy: 0.5, lr: 0.1, seconds: 1 });
  store.addLrFind(id, 'head', { lr: [1] });
  store.addStepResult(id, STEP3);
  for (let i = 0; i < iterations; i++)
    store.addIteration(id, { step: 'head', epoch: 0, iteration: i, loss: 1, lr: 0.1 });
  return id;
}

test('deleteRun removes the run from every table and leaves other runs alone', () => {
  const path = file();
  const store = new RunStore(path);
  const gone = seedRun(store, 3);
  const kept = seedRun(store, 2);
  store.finishRun(gone, 'completed');
  store.flushIterations();
  assert.ok(
    Object.values(rowsPerTable(path, gone)).every((n) => n > 0),
    'every table had rows of the run',
  );
  assert.equal(store.deleteRun(gone), true);
  assert.deepEqual(
    Object.values(rowsPerTable(path, gone)).filter((n) => n > 0),
    [],
  );
  assert.equal(store.deleteRun(gone), false);
  assert.equal(store.iterations(kept).length, 2);
  assert.equal(store.epochs(kept).length, 1);
  store.close();
});

test('iterations are written in batches: none hit the file until a batch fills or an epoch ends', () => {
  const path = file();
  const store = new RunStore(path);
  const id = store.createRun({ dir: '/d', kind: 'head', backend: 'cpu', config: {}, dataset: {}, classes: [] });
  const onDisk = () => {
    const raw = new Database(path, { readonly: true });
    const n = (raw.prepare(`SELECT COUNT(*) AS n FROM iterations`).get() as { n: number }).n;
    raw.close();
    return n;
  };
  for (let i = 0; i < 10; i++)
    recordRunEvent(store, id, {
      type: 'batch',
      step: 'head',
      epoch: 0,
      iteration: i,
      loss: i === 9 ? NaN : 2,
      lr: 1e-3,
    });
  assert.equal(onDisk(), 0, 'buffered, not one write per batch');
  recordRunEvent(store, id, {
    type: 'epoch',
    step: 'head',
    epoch: 0,
    trainLoss: 2,
    validLoss: 2,
    validAccuracy: 0.5,
    lr: 1e-3,
    seconds: 1,
  });
  assert.equal(onDisk(), 10, 'the epoch end writes them');
  assert.equal(store.iterations(id)[9]!.loss, null, 'a NaN loss is stored as null');
  for (let i = 10; i < 10 + 500; i++)
    store.addIteration(id, { step: 'head', epoch: 1, iteration: i, loss: 1, lr: 1e-3 });
  assert.equal(onDisk(), 510, 'a full batch is written without waiting for the epoch');
  store.close();
});

test('the recorder stores finished steps (replaced when a resumed run redoes one) and iterations by step', () => {
  const store = new RunStore(file());
  const id = store.createRun({ dir: '/d', kind: 'fastai8', backend: 'cpu', config: {}, dataset: {}, classes: [] });
  recordRunEvent(store, id, { type: 'step', step: 3, name: 'step3-head', status: 'started' });
  recordRunEvent(store, id, { type: 'batch', step: 'step3-head', epoch: 0, iteration: 0, loss: 1, lr: 0.01 });
  recordRunEvent(store, id, { type: 'batch', step: 'step4-augment', epoch: 0, iteration: 0, loss: 1, lr: 0.02 });
  recordRunEvent(store, id, { type: 'step', step: 3, name: 'step3-head', status: 'done', result: STEP3 });
  recordRunEvent(store, id, {
    type: 'step',
    step: 3,
    name: 'step3-head',
    status: 'done',
    result: { ...STEP3, validAccuracy: 0.9 },
  });
  assert.deepEqual(
    store.stepResults(id).map((s) => s.validAccuracy),
    [0.9],
  );
  assert.deepEqual(
    store.iterations(id).map((r) => [r.step, r.lr]),
    [
      ['step3-head', 0.01],
      ['step4-augment', 0.02],
    ],
  );
  store.close();
});

test('downsampling keeps at most the limit, averages the loss per bucket and keeps every index in order', () => {
  const rows: IterationRow[] = Array.from({ length: 4001 }, (_, i) => ({
    step: 'step8-all',
    epoch: Math.floor(i / 1000),
    iteration: i,
    loss: i % 2 ? 1 : 3,
    lr: i / 4000,
  }));
  const pts = downsampleIterations(rows, 2000);
  assert.equal(pts.length, 1334, 'buckets of 3');
  assert.equal(pts[0]!.loss, 7 / 3, 'the mean of 3, 1 and 3, not one sample');
  assert.equal(pts[1]!.index, 3);
  assert.equal(pts[1]!.lr, 3 / 4000, "the bucket's first LR");
  assert.equal(pts.at(-1)!.index, 3999, 'the last bucket (iterations 3999 and 4000) is still there');
  assert.deepEqual(
    downsampleIterations(rows.slice(0, 3), 2000).map((p) => p.index),
    [0, 1, 2],
  );
});

test('the config diff lists only the keys that differ, nested keys dotted, absent keys as null', () => {
  assert.deepEqual(
    configDiff([
      { lr: 0.01, size: 64, schedule: { kind: 'constant' } },
      { lr: 0.003, size: 64, schedule: { kind: 'sgdr', cycles: 3 } },
    ]),
    [
      { key: 'lr', values: ['0.01', '0.003'] },
      { key: 'schedule.cycles', values: [null, '3'] },
      { key: 'schedule.kind', values: ['constant', 'sgdr'] },
    ],
  );
});

test('compareRuns returns what the contract promises; deleting refuses running runs and removes the folder', () => {
  const home = mkdtempSync(join(tmpdir(), 'ft-home-'));
  const store = new RunStore(join(home, 'history.sqlite'));
  const a = seedRun(store, 4500);
  const b = seedRun(store, 10);
  const result = compareRuns(store, [a, b, a]);
  assert.doesNotThrow(() => requests['runs.compare'].result.parse(result));
  assert.deepEqual(
    result.runs.map((r) => [r.id, r.iterationCount, r.iterations.length <= 2000, r.steps.length]),
    [
      [a, 4500, true, 1],
      [b, 10, true, 1],
    ],
  );
  assert.throws(() => compareRuns(store, [a, 999]), UnknownRunError);

  const runDir = join(home, 'runs', String(a));
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'run.json'), '{}');
  assert.throws(() => deleteRunWithFolder(store, a, runDir), RunBusyError, 'still running (this live process)');
  store.finishRun(a, 'completed');
  assert.throws(() => deleteRunWithFolder(store, a, runDir, true), RunBusyError, 'a job of this process');
  assert.deepEqual(deleteRunWithFolder(store, a, runDir), { runId: a, folderRemoved: true });
  assert.equal(existsSync(runDir), false);
  assert.equal(store.getRun(a), null);
  assert.ok(existsSync(dirname(runDir)), 'only the run folder goes');
  store.close();
});

test("the Compare view's overlay puts runs of different lengths on one x axis, null where a run has no point", async () => {
  const { overlay } = await import('../../src-renderer/src/components/runCompareView');
  assert.deepEqual(
    overlay([
      [
        [0, 1],
        [3, 2],
      ],
      [
        [0, 5],
        [2, null],
        [4, 6],
      ],
    ]),
    {
      x: [0, 2, 3, 4],
      ys: [
        [1, null, 2, null],
        [5, null, null, 6],
      ],
      counts: [2, 2],
    },
  );
});
