/**
 * Two processes on one history: two real `finetune train` runs started at once on the same fresh --home (so they
 * also race to create history.sqlite) both complete, and the history holds both runs with all their epochs and
 * passes SQLite's integrity check. (The busy timeout itself: test/hostile/history-files.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cliWorkspace, finetuneAsync, lastJson } from '../helpers/cli';
import { makeShapeDataset } from '../helpers/images';
import { integrityCheck } from '../helpers/faults';
import { RunStore } from '../../src-main/core/history/runStore';

const { home, data, env } = cliWorkspace('ft-two-');
await makeShapeDataset(data, { perClass: 8, size: 32, seed: 3 });

test('two CLI head runs on one home at once: both stop after step 3, both recorded, the history intact', async () => {
  const args = (seed: number) =>
    ['train', data, '--steps', 'head', '--epochs', '2', '--size', '32', '--batch-size', '8'].concat([
      '--seed',
      String(seed),
      '--json',
    ]);
  const [a, b] = await Promise.all([finetuneAsync(args(1), env), finetuneAsync(args(2), env)]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  const ids = [a, b].map((r) => lastJson<{ runId: number; status: string }>(r));
  assert.deepEqual(
    ids.map((r) => r.status),
    ['paused', 'paused'],
  );
  assert.notEqual(ids[0]!.runId, ids[1]!.runId);
  const path = join(home, 'history.sqlite');
  assert.equal(integrityCheck(path), 'ok');
  assert.deepEqual(
    readdirSync(home).filter((f) => f.includes('.corrupt-') || f.includes('.new-')),
    [],
    'neither took the other’s new history for damage',
  );
  const store = new RunStore(path);
  try {
    for (const { runId } of ids) {
      assert.equal(store.getRun(runId)?.status, 'paused');
      assert.deepEqual(
        store.epochs(runId).map((e) => e.epoch),
        [0, 1],
      );
      assert.ok(store.iterations(runId).length > 0);
    }
  } finally {
    store.close();
  }
});
