/** The taskbar progress and background notifications the Electron entry applies, from the service's real events. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { taskbarUpdate } from '../../src-main/taskbar';

test('progress events drive the taskbar bar; the end of a run clears it and notifies', () => {
  const progress = {
    type: 'progress',
    runId: 3,
    step: 3,
    phase: 'train',
    label: 'epoch 1/4',
    done: 5,
    total: 20,
    etaSeconds: 12,
  } as const;
  assert.deepEqual(taskbarUpdate('run.event', progress), { progress: 0.25 });
  assert.deepEqual(
    taskbarUpdate('run.event', { ...progress, step: 2, phase: 'lrfind', done: 0, total: 0, etaSeconds: null }),
    { progress: 0 },
  );
  assert.deepEqual(
    taskbarUpdate('run.event', { type: 'done', runId: 3, status: 'completed', error: null, nextStep: 9 }),
    {
      progress: -1,
      notify: { title: 'Training finished', body: 'Run #3' },
    },
  );
  const paused = taskbarUpdate('run.event', { type: 'done', runId: 3, status: 'paused', error: null, nextStep: 4 });
  assert.equal(paused?.notify?.title, 'Training paused');
  const failed = taskbarUpdate('run.event', {
    type: 'done',
    runId: 4,
    status: 'failed',
    error: 'disk full: /tmp/x',
    nextStep: 3,
  });
  assert.deepEqual(failed?.notify, { title: 'Training failed', body: 'disk full: /tmp/x' });
  const step = taskbarUpdate('run.event', {
    type: 'step',
    runId: 5,
    step: 7,
    name: 'step7-lrfind-all',
    status: 'done',
    result: null,
  });
  assert.equal(step?.notify?.title, 'Step 7 finished');
  assert.equal(step?.progress, undefined);
  assert.equal(
    taskbarUpdate('run.event', { type: 'step', runId: 5, step: 8, name: 'step8-all', status: 'started', result: null }),
    null,
  );
  const batch = { type: 'batch', runId: 3, step: 'step3-head', epoch: 0, iteration: 1, loss: 1, lr: 0.01 } as const;
  assert.equal(taskbarUpdate('run.event', batch), null);
});

test("the notifications speak the wizard's language: Arabic with the code names isolated, English by default", () => {
  const done = { type: 'done', runId: 3, status: 'completed', error: null, nextStep: 9 } as const;
  assert.deepEqual(taskbarUpdate('run.event', done, 'ar')?.notify, { title: 'انتهى التدريب', body: 'التشغيل رقم 3' });
  assert.equal(taskbarUpdate('run.event', { ...done, status: 'cancelled' }, 'ar')?.notify?.title, 'أُوقف التدريب');
  assert.equal(taskbarUpdate('run.event', { ...done, status: 'cancelled' })?.notify?.title, 'Training stopped');
  const step = { type: 'step', runId: 5, step: 7, name: 'step7-lrfind-all', status: 'done', result: null } as const;
  assert.deepEqual(taskbarUpdate('run.event', step, 'ar')?.notify, {
    title: 'انتهت الخطوة 7',
    body: 'التشغيل رقم 5: \u2068step7-lrfind-all\u2069',
  });
  assert.deepEqual(taskbarUpdate('run.event', step, 'en')?.notify, {
    title: 'Step 7 finished',
    body: 'Run #5: step7-lrfind-all',
  });
});
