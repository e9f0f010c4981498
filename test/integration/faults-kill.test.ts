/**
 * Faults mid-run, on the real CLI: one tiny recipe run (3 classes × 10 images, 32 px) is stopped five ways and resumed
 * after each: kill -9 after a seeded-random epoch, kill -9 inside a checkpoint write and between its renames
 * (FINETUNE_FAULT hooks: that window is milliseconds wide), SIGTERM and SIGINT, and a disk-full error while saving.
 * After every stop: the history passes SQLite's integrity check and keeps every epoch printed before the stop, a
 * complete checkpoint is there to resume from, and the last `finetune resume --json` completes the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliWorkspace, lastJson } from '../helpers/cli';
import { makeShapeDataset } from '../helpers/images';
import { completeCheckpoint, epochLines, integrityCheck, runCli, type Stopped } from '../helpers/faults';
import { mulberry32 } from '../../src-main/core/util/random';
import { RunStore } from '../../src-main/core/history/runStore';

const SEED = Number(process.env.FAULT_SEED ?? 13);
const rand = mulberry32(SEED);
const { home, data, env } = cliWorkspace('ft-faults-');
await makeShapeDataset(data, { perClass: 10, size: 32, seed: 5 });
const history = join(home, 'history.sqlite');
const TINY = ['--size', '32', '--batch-size', '8', '--cycles', '2', '--lr-find-iters', '8', '--lr-find-all-iters', '8'];

function epochsInHistory(runId: number) {
  const store = new RunStore(history);
  try {
    return { epochs: store.epochs(runId), status: store.getRun(runId)!.status };
  } finally {
    store.close();
  }
}

/** What must hold after any stop: integrity, every printed epoch kept, a complete checkpoint. */
function assertConsistent(runId: number, r: Stopped, what: string) {
  assert.equal(integrityCheck(history), 'ok', what);
  const { epochs } = epochsInHistory(runId);
  for (const p of epochLines(r.stderr)) {
    const row = epochs.find((e) => e.step === p.step && e.epoch === p.epoch);
    assert.ok(row, `${what}: ${p.step} epoch ${p.epoch} was printed but is not in the history`);
    assert.equal(row.validLoss.toFixed(4), p.validLoss, `${what}: ${p.step} epoch ${p.epoch}`);
  }
  return completeCheckpoint(join(home, 'runs', String(runId)));
}

const resume = (runId: number, extra: Record<string, string> = {}, stop?: Parameters<typeof runCli>[2]) =>
  runCli(['resume', String(runId)], { ...env, ...extra }, stop);

test(`kill -9, SIGTERM, SIGINT and a full disk mid-run; resume finishes it (FAULT_SEED=${SEED})`, async (t) => {
  let runId = 0;
  const runDir = () => join(home, 'runs', String(runId));

  await t.test('kill -9 after a random epoch of steps 3–4', async () => {
    const n = 1 + Math.floor(rand() * 4);
    const r = await runCli(['train', data, '--recipe', 'fastai8', ...TINY], env, { afterEpochs: n, signal: 'SIGKILL' });
    assert.ok(r.sent && r.signal === 'SIGKILL', `killed after epoch line ${n}: ${r.stderr}`);
    runId = Number(/^run (\d+):/m.exec(r.stderr)?.[1]);
    assert.ok(runId > 0, r.stderr);
    // At least n: on a loaded machine another epoch may end before the signal lands (all printed ones are checked).
    assert.ok(epochLines(r.stderr).length >= n, r.stderr);
    assertConsistent(runId, r, `kill after epoch line ${n}`);
  });

  await t.test(
    'kill -9 inside a checkpoint write: the temporary folder is half written, the last one intact',
    async () => {
      const before = completeCheckpoint(runDir()).state;
      const k = 1 + Math.floor(rand() * 2);
      const r = await resume(runId, { FINETUNE_FAULT: `checkpoint-write:${k}` });
      assert.equal(r.signal, 'SIGKILL', `the hook killed it at checkpoint write ${k}: ${r.stderr}`);
      const tmpState = join(runDir(), 'checkpoint.tmp', 'state.json');
      assert.ok(existsSync(tmpState), 'the kill landed mid-write');
      assert.throws(() => JSON.parse(readFileSync(tmpState, 'utf8')) as unknown, SyntaxError, 'cut short');
      const { dir, state } = assertConsistent(runId, r, `kill in checkpoint write ${k}`);
      assert.equal(dir, join(runDir(), 'checkpoint'));
      const at = (s: { step: number; epochsDone: number }) => s.step * 1000 + s.epochsDone;
      assert.ok(at(state) >= at(before), 'the checkpoint is the last complete one, not an older one');
      assert.equal(epochsInHistory(runId).status, 'running', 'nobody has marked it yet: its process is simply gone');
    },
  );

  await t.test('kill -9 between the checkpoint renames: only checkpoint.old holds it, and it resumes', async () => {
    const r = await resume(runId, { FINETUNE_FAULT: 'checkpoint-swap:1' });
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    assert.ok(!existsSync(join(runDir(), 'checkpoint')) && existsSync(join(runDir(), 'checkpoint.tmp')));
    assert.equal(assertConsistent(runId, r, 'kill between renames').dir, join(runDir(), 'checkpoint.old'));
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    await t.test(`${signal} after the next epoch: cancelled cleanly, checkpoint intact`, async () => {
      const r = await resume(runId, {}, { afterEpochs: 1, signal });
      assert.ok(r.sent, r.stderr);
      assert.equal(r.code, 1, `exit 1, not killed by ${signal}: ${r.signal} ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^run ${runId} cancelled$`, 'm'));
      assert.match(r.stdout, new RegExp(`continue it with: finetune resume ${runId}`));
      assert.equal(epochsInHistory(runId).status, 'cancelled');
      assert.ok(!existsSync(join(runDir(), 'checkpoint.tmp')), 'the resume removed the half-written folder');
      assert.equal(assertConsistent(runId, r, signal).dir, join(runDir(), 'checkpoint'));
    });
  }

  await t.test('a disk-full error while saving: a clear message, the previous checkpoint kept, resumable', async () => {
    const before = readFileSync(join(runDir(), 'checkpoint', 'state.json'), 'utf8');
    const r = await resume(runId, { FINETUNE_FAULT: 'checkpoint-write-error' });
    assert.equal(r.code, 1, r.stderr);
    assert.ok(
      r.stderr.includes(
        `finetune resume: Could not save the checkpoint in ${runDir()}: the disk is full. The previous checkpoint is ` +
          `kept: free some disk space (or make the folder writable) and resume the run. Then: finetune resume ${runId}`,
      ),
      r.stderr,
    );
    assert.equal(readFileSync(join(runDir(), 'checkpoint', 'state.json'), 'utf8'), before, 'the previous checkpoint');
    assert.ok(!existsSync(join(runDir(), 'checkpoint.tmp')), 'nothing half-written left');
    assert.equal(epochsInHistory(runId).status, 'failed');
    assertConsistent(runId, r, 'disk full');
  });

  await t.test('finetune resume --json completes the run with every epoch of every step', async () => {
    const r = await runCli(['resume', String(runId), '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      lastJson<{ status: string }>({ status: r.code, stdout: r.stdout, stderr: r.stderr }).status,
      'completed',
    );
    const again = await resume(runId);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /already completed/);
    const { epochs, status } = epochsInHistory(runId);
    assert.equal(status, 'completed');
    assert.deepEqual(
      epochs.map((e) => `${e.step}:${e.epoch}`).sort(),
      ['step3-head:0', 'step3-head:1', 'step4-augment:0', 'step4-augment:1', 'step4-augment:2']
        .concat(['step8-all:0', 'step8-all:1', 'step8-all:2'])
        .sort(),
    );
    assert.equal(integrityCheck(history), 'ok');
    assert.ok(existsSync(join(runDir(), 'model', 'weights.bin')));
  });
});
