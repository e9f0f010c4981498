/** The headless server's queue for long requests: a few at a time, a short queue, "busy" beyond, the same one joined. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LongRequestQueue } from '../../src-main/server/longRequests';

/** Work that starts when the queue calls it and ends when the test says so. */
function controlled() {
  const started: string[] = [];
  const finish = new Map<string, (ok: boolean) => void>();
  const work = (name: string) => () => {
    started.push(name);
    return new Promise<string>((resolve, reject) =>
      finish.set(name, (ok) => (ok ? resolve(name) : reject(new Error(`${name} failed`)))),
    );
  };
  return { started, finish: (name: string, ok = true) => finish.get(name)!(ok), work };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('two run, two wait, the fifth is told busy; a freed place goes to the next waiting one', async () => {
  const queue = new LongRequestQueue(2, 2);
  const c = controlled();
  const results = ['a', 'b', 'c', 'd'].map((k) => queue.run(k, c.work(k)));
  await tick();
  assert.deepEqual(c.started, ['a', 'b']);
  assert.throws(
    () => queue.run('e', c.work('e')),
    /^Error: Busy: 2 long requests \(scans, previews, estimates, evaluations\) are running and 2 are waiting/,
  );
  c.finish('a');
  assert.equal(await results[0], 'a');
  await tick();
  assert.deepEqual(c.started, ['a', 'b', 'c']);
  c.finish('b', false);
  await assert.rejects(results[1]!, /b failed/);
  await tick();
  assert.deepEqual(c.started, ['a', 'b', 'c', 'd'], 'a failure frees its place too');
  const e = queue.run('e', c.work('e')); // one place in the queue again
  c.finish('c');
  c.finish('d');
  await tick();
  c.finish('e');
  assert.deepEqual(await Promise.all([results[2], results[3], e]), ['c', 'd', 'e']);
});

test('the same request while one runs or waits joins it: one scan per folder, even when the queue is full', async () => {
  const queue = new LongRequestQueue(1, 1);
  const c = controlled();
  const first = queue.run('scan /a', c.work('a1'));
  const waiting = queue.run('scan /b', c.work('b1'));
  const again = queue.run('scan /a', c.work('a2'));
  const waitingAgain = queue.run('scan /b', c.work('b2'));
  await tick();
  c.finish('a1');
  await tick();
  c.finish('b1');
  assert.deepEqual(await Promise.all([first, again, waiting, waitingAgain]), ['a1', 'a1', 'b1', 'b1']);
  assert.deepEqual(c.started, ['a1', 'b1'], 'each folder scanned once');
  // Once answered, the same request runs afresh.
  const later = queue.run('scan /a', c.work('a3'));
  await tick();
  c.finish('a3');
  assert.equal(await later, 'a3');
});
