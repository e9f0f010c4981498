import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { ROOT } from '../helpers/cli';
import { MIGRATIONS, RunStore, SCHEMA_VERSION, type RunTiming } from '../../src-main/core/history/runStore';

const file = () => join(mkdtempSync(join(tmpdir(), 'ft-store-')), 'nested', 'history.sqlite');

test('runs and epochs persist in a WAL SQLite file with a schema version', () => {
  const path = file();
  const store = new RunStore(path);
  const id = store.createRun({
    dir: '/data',
    kind: 'head',
    backend: 'wasm',
    config: { lr: 0.01 },
    dataset: { n: 1 },
    classes: ['a', 'b'],
  });
  store.addEpoch(id, {
    step: 'head',
    epoch: 0,
    trainLoss: 1,
    validLoss: 0.9,
    validAccuracy: 0.5,
    lr: 0.01,
    seconds: 1,
  });
  store.addEpoch(id, {
    step: 'head',
    epoch: 1,
    trainLoss: 0.5,
    validLoss: 0.6,
    validAccuracy: 0.75,
    lr: 0.01,
    seconds: 1,
  });
  store.finishRun(id, 'completed', { modelDir: '/m' });
  store.close();

  const raw = new Database(path, { readonly: true });
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  raw.close();

  const again = new RunStore(path);
  const run = again.getRun(id)!;
  assert.equal(run.status, 'completed');
  assert.equal(run.backend, 'wasm');
  assert.deepEqual(run.config, { lr: 0.01 });
  assert.deepEqual(run.classes, ['a', 'b']);
  assert.equal(run.modelDir, '/m');
  assert.deepEqual(
    again.epochs(id).map((e) => e.validAccuracy),
    [0.5, 0.75],
  );
  again.close();
});

test('a run left running by a killed process is marked interrupted; live runs and the history stay intact', () => {
  const path = file();
  const a = new RunStore(path);
  const done = a.createRun({ dir: '/d', kind: 'head', backend: 'cpu', config: {}, dataset: {}, classes: [] });
  a.finishRun(done, 'completed');
  // A run owned by this (live) process, e.g. a CLI training while the app starts.
  const live = a.createRun({ dir: '/d', kind: 'head', backend: 'cpu', config: {}, dataset: {}, classes: [] });
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/crashing-writer.ts'), path], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(child.signal, 'SIGKILL');
  const crashed = Number(child.stdout);
  const b = new RunStore(path);
  assert.equal(b.markInterrupted(), 1);
  assert.equal(b.getRun(crashed)!.status, 'interrupted');
  assert.equal(b.getRun(live)!.status, 'running');
  assert.equal(b.getRun(done)!.status, 'completed');
  assert.equal(b.epochs(crashed).length, 1, 'what the killed process wrote is kept');
  b.close();
  a.close();
});

test('a history written by a newer version is refused with a clear message', () => {
  const path = file();
  new RunStore(path).close();
  const raw = new Database(path);
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  assert.throws(() => new RunStore(path), /newer Finetune Studio/);
});

test('LR-finder results are stored with their run', () => {
  const store = new RunStore(file());
  const id = store.createRun({ dir: '/d', kind: 'head', backend: 'cpu', config: {}, dataset: {}, classes: [] });
  store.addLrFind(id, 'head', { lr: [1e-5, 1e-4], loss: [2, 1.5] });
  assert.deepEqual(store.lrFinds(id)[0]!.result, { lr: [1e-5, 1e-4], loss: [2, 1.5] });
  store.close();
});

test('schema 3 adds the run timing and backend note to a schema-2 history; old runs keep working without them', () => {
  const path = file();
  mkdirSync(dirname(path), { recursive: true });
  const raw = new Database(path);
  raw.exec(MIGRATIONS[0]!);
  raw.exec(MIGRATIONS[1]!);
  raw.pragma('user_version = 2');
  raw
    .prepare(
      `INSERT INTO runs (created_at, dir, kind, status, backend, config, dataset, classes)
       VALUES ('2024-01-01T00:00:00Z', '/old', 'fastai8', 'completed', 'cpu', '{}', '{}', '[]')`,
    )
    .run();
  raw.close();
  const store = new RunStore(path);
  assert.equal(store.schemaVersion(), SCHEMA_VERSION);
  const old = store.listRuns()[0]!;
  assert.equal(old.dir, '/old');
  assert.equal(old.timing, null);
  assert.equal(old.backendNote, null);
  const added = store.createRun({
    dir: '/new',
    kind: 'fastai8',
    backend: 'wasm',
    backendNote: 'WebAssembly + XNNPACK (tfjs-backend-wasm), 2 threads',
    config: {},
    dataset: {},
    classes: [],
  });
  assert.equal(store.getRun(added)!.backendNote, 'WebAssembly + XNNPACK (tfjs-backend-wasm), 2 threads');
  const timing: RunTiming = {
    steps: [{ step: 1, name: 'step1-precompute', estimate: 1.5, actual: 2 }],
    total: { estimate: 1.5, actual: null },
  };
  store.setTiming(old.id, timing);
  assert.deepEqual(store.getRun(old.id)!.timing, timing);
  store.close();
});

test('recentDirs: the newest runs’ dataset folders, each once, from an index (1,000 runs in a real file)', () => {
  const path = file();
  const store = new RunStore(path);
  // 1,000 runs over 40 folders in a shuffled order; a big config each, as recipe runs store.
  const big = { recipe: { note: 'x'.repeat(2000) } };
  for (let i = 0; i < 1000; i++) {
    const dir = `/data/set-${(i * 7919) % 40}`;
    store.createRun({ dir, kind: 'fastai8', backend: 'wasm', config: big, dataset: {}, classes: ['a'] });
  }
  const expected = [...new Set(store.listRuns().map((r) => r.dir))].slice(0, 10);
  assert.equal(expected.length, 10);
  assert.deepEqual(store.recentDirs(10), expected);
  assert.deepEqual(store.recentDirs(100).length, 40, 'each folder once');
  store.close();
  const raw = new Database(path, { readonly: true });
  const plan = raw
    .prepare(`EXPLAIN QUERY PLAN SELECT dir FROM runs GROUP BY dir ORDER BY MAX(id) DESC LIMIT 10`)
    .all() as Array<{ detail: string }>;
  raw.close();
  assert.ok(
    plan.some((p) => /COVERING INDEX runs_dir_id/.test(p.detail)),
    plan.map((p) => p.detail).join('; '),
  );
});

test('processes that open a new history at the same moment all migrate it without a clash', async () => {
  const { spawn } = await import('node:child_process');
  const storeModule = join(ROOT, 'src-main/core/history/runStore.ts');
  // Each child waits for the same instant, then opens the store: the migrations race as two CLI runs' did.
  const script = `const { RunStore } = await import(${JSON.stringify(storeModule)});
    const at = Number(process.argv[2]); while (Date.now() < at) {}
    new RunStore(process.argv[1]).close?.();`;
  for (let round = 0; round < 3; round++) {
    const path = file();
    const at = Date.now() + 1500;
    const codes = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<{ code: number | null; err: string }>((done) => {
            const child = spawn(
              process.execPath,
              ['--import', 'tsx', '--input-type=module', '-e', script, path, String(at)],
              {
                cwd: ROOT,
              },
            );
            let err = '';
            child.stderr.on('data', (d: Buffer) => (err += d.toString()));
            child.on('close', (code) => done({ code, err }));
          }),
      ),
    );
    for (const { code, err } of codes) assert.equal(code, 0, err.slice(-400));
    const store = new RunStore(path);
    assert.equal(store.schemaVersion(), SCHEMA_VERSION);
  }
});
