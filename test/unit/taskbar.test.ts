/** The taskbar progress and background notifications the Electron entry applies, from the service's real events. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { taskbarUpdate } from '../../src-main/taskbar';

test('progress events drive the taskbar bar; the end of a job clears it and notifies', () => {
  const progress = { runId: 3, phase: 'train', label: 'epoch 1/4', done: 5, total: 20, etaSeconds: 12 } as const;
  assert.deepEqual(taskbarUpdate('train.progress', progress), { progress: 0.25 });
  assert.deepEqual(taskbarUpdate('lrfind.progress', { jobId: 1, phase: 'lr-find', label: '', done: 0, total: 0 }), {
    progress: 0,
  });
  assert.deepEqual(taskbarUpdate('train.done', { runId: 3, status: 'completed', error: null }), {
    progress: -1,
    notify: { title: 'Training finished', body: 'Run #3' },
  });
  const failed = taskbarUpdate('train.done', { runId: 4, status: 'failed', error: 'disk full: /tmp/x' });
  assert.deepEqual(failed?.notify, { title: 'Training failed', body: 'disk full: /tmp/x' });
  const step = taskbarUpdate('recipe.step', {
    runId: 5,
    step: 7,
    name: 'step7-lrfind-all',
    status: 'done',
    result: null,
  });
  assert.equal(step?.notify?.title, 'Step 7 finished');
  assert.equal(step?.progress, undefined);
  assert.equal(
    taskbarUpdate('recipe.step', { runId: 5, step: 8, name: 'step8-all', status: 'started', result: null }),
    null,
  );
  assert.equal(taskbarUpdate('train.batch', { runId: 3, epoch: 0, iteration: 1, loss: 1, lr: 0.01 }), null);
});
