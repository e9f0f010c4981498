/**
 * Damaged run histories: a zero-byte, a non-SQLite, a truncated and a page-corrupted history.sqlite are moved aside
 * (never deleted) with a message naming both files, and a new history is started; one from a newer version is refused
 * and left byte-identical. Real SQLite files, and the real CLI in a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { finetune, ROOT } from '../helpers/cli';
import { integrityCheck } from '../helpers/faults';
import { RunStore, SCHEMA_VERSION } from '../../src-main/core/history/runStore';
import { BUSY_TIMEOUT_MS, HistoryError, openHistoryDb } from '../../src-main/core/history/openHistory';
import { tmp } from './build';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const asideOf = (dir: string) => readdirSync(dir).filter((f) => /^history\.sqlite\.corrupt-[\dTZ-]+$/.test(f));

/** A real history with `runs` runs of 50 epochs each, checkpointed into the main file (no -wal left). */
function realHistory(runs = 20): string {
  const path = join(tmp(), 'history.sqlite');
  const store = new RunStore(path);
  for (let r = 0; r < runs; r++) {
    const id = store.createRun({
      dir: `/d/${r}`,
      kind: 'head',
      backend: 'cpu',
      config: { r },
      dataset: {},
      classes: [],
    });
    for (let e = 0; e < 50; e++)
      store.addEpoch(id, {
        step: 'head',
        epoch: e,
        trainLoss: 1,
        validLoss: 1,
        validAccuracy: 0.5,
        lr: 0.01,
        seconds: 1,
      });
  }
  store.close();
  assert.ok(!existsSync(`${path}-wal`), 'closed cleanly: everything is in the main file');
  return path;
}

/** Opens a damaged history: moved aside byte for byte, a notice naming both files, a new working history. */
function assertMovedAside(path: string, why: RegExp) {
  const dir = join(path, '..');
  const before = sha(path);
  const store = new RunStore(path);
  try {
    const [aside] = asideOf(dir);
    assert.ok(aside, `moved aside: ${readdirSync(dir).join(', ')}`);
    assert.equal(sha(join(dir, aside)), before, 'kept byte for byte');
    assert.ok(store.notice?.startsWith(`The run history ${path} could not be read (`), store.notice ?? 'no notice');
    assert.match(store.notice!, why);
    assert.ok(store.notice!.includes(`It was moved to ${join(dir, aside)} (nothing was deleted)`), store.notice!);
    assert.deepEqual(store.listRuns(), [], 'a new, empty history');
    store.createRun({ dir: '/d', kind: 'head', backend: 'cpu', config: {}, dataset: {}, classes: [] });
    assert.equal(store.schemaVersion(), SCHEMA_VERSION);
  } finally {
    store.close();
  }
  assert.equal(integrityCheck(path), 'ok');
}

test('a zero-byte history.sqlite: moved aside, a new history started', () => {
  const dir = tmp();
  const path = join(dir, 'history.sqlite');
  writeFileSync(path, '');
  assertMovedAside(path, /\(it is empty \(0 bytes\)\)/);
});

test('a text file named history.sqlite: moved aside as not a SQLite database', () => {
  const path = join(tmp(), 'history.sqlite');
  writeFileSync(path, 'these are my notes, not a database\n'.repeat(200));
  assertMovedAside(path, /\(it is not a SQLite database\)/);
});

test('a history truncated to half its size: moved aside', () => {
  const path = realHistory();
  const bytes = readFileSync(path);
  writeFileSync(path, bytes.subarray(0, bytes.length >> 1));
  assertMovedAside(path, /\((SQLite's check failed|it is damaged)/);
});

test('a history with a page overwritten by garbage: moved aside', () => {
  const path = realHistory();
  const db = new Database(path, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const fd = openSync(path, 'r+');
  // Page 3 onwards holds the runs and epochs tables' b-trees.
  writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, 2 * pageSize);
  closeSync(fd);
  assertMovedAside(path, /\((SQLite's check failed|it is damaged)/);
});

test('a history from a newer version: refused, named, and left byte-identical', () => {
  const path = realHistory(1);
  const raw = new Database(path);
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  const before = sha(path);
  assert.throws(
    () => new RunStore(path),
    (e: Error) => {
      assert.ok(e instanceof HistoryError);
      assert.ok(e.message.startsWith(`The run history ${path} was written by a newer Finetune Studio`), e.message);
      assert.match(e.message, /left untouched: update the app/);
      return true;
    },
  );
  assert.equal(sha(path), before);
  assert.deepEqual(asideOf(join(path, '..')), []);
  assert.ok(!existsSync(`${path}-wal`));
});

test("a killed writer's history (a WAL left behind) is not damage: opened as is, nothing moved", () => {
  const path = join(tmp(), 'history.sqlite');
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/crashing-writer.ts'), path], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(child.signal, 'SIGKILL');
  assert.ok(existsSync(`${path}-wal`), 'the killed process left its WAL');
  const store = new RunStore(path);
  assert.equal(store.notice, null);
  assert.equal(store.epochs(Number(child.stdout)).length, 1);
  store.close();
  assert.deepEqual(asideOf(join(path, '..')), []);
});

test('the CLI on a damaged history: warns naming both files and carries on; on a newer one: exits 1', () => {
  const home = tmp();
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'history.sqlite'), '<html>not a database</html>');
  const r = finetune(['runs', '--json'], { FINETUNE_HOME: home });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /^warning: The run history .*history\.sqlite could not be read \(it is not a SQLite database\)/m,
  );
  assert.equal(asideOf(home).length, 1);
  assert.deepEqual(JSON.parse(r.stdout), []);

  const raw = new Database(join(home, 'history.sqlite'));
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  const newer = finetune(['runs'], { FINETUNE_HOME: home });
  assert.equal(newer.status, 1);
  assert.match(newer.stderr, /^finetune runs: The run history .* was written by a newer Finetune Studio/m);
  assert.equal(asideOf(home).length, 1, 'a newer history is not moved');
});

test('the busy timeout: a write waits for another process holding a write transaction instead of failing', async () => {
  const path = realHistory(1);
  const opened = openHistoryDb(path);
  assert.equal(opened.db.pragma('busy_timeout', { simple: true }), BUSY_TIMEOUT_MS, 'the connection the RunStore gets');
  opened.db.close();
  const store = new RunStore(path);
  // Another process takes the write lock and holds it for 3 s.
  const hold = `const db = new (require('better-sqlite3'))(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    db.prepare("INSERT INTO lr_finds (run_id, stage, created_at, result) VALUES (NULL, 'held', 'now', '{}')").run();
    process.stdout.write('holding\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, 3000);`;
  const child = spawn(process.execPath, ['-e', hold, path], { cwd: ROOT });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (d: Buffer) => d.toString().includes('holding') && resolve()),
  );
  // Without a busy timeout a write fails at once: the lock is held now.
  const raw = new Database(path);
  raw.pragma('busy_timeout = 0');
  assert.throws(
    () => raw.prepare(`INSERT INTO lr_finds (run_id, stage, created_at, result) VALUES (NULL, 'x', 'now', '{}')`).run(),
    {
      code: 'SQLITE_BUSY',
    },
  );
  raw.close();
  const started = Date.now();
  const id = store.createRun({ dir: '/d', kind: 'head', backend: 'cpu', config: {}, dataset: {}, classes: [] });
  const waited = Date.now() - started;
  assert.ok(waited > 100, `waited ${waited} ms for the other process's commit`);
  assert.ok(store.getRun(id));
  assert.deepEqual(store.lrFinds(0), []);
  assert.equal(store.listLrFinds()[0]?.stage, 'held', "the other process's write is there too");
  store.close();
  assert.equal(await exited, 0);
  assert.equal(integrityCheck(path), 'ok');
});
