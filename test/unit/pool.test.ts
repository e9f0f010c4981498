/**
 * util/pool.ts, the one way the data layer fans out over files: the limit holds, results keep their order, the
 * first error stops new work and is thrown only after the items in flight settle, a cancel stops before the next
 * item; Slots caps holders across pools.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, mapPool, Slots } from '../../src-main/core/util/pool';

/** A task that resolves when released, so a test decides what is in flight. */
function gate() {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { done, release };
}

const tick = () => new Promise((r) => setImmediate(r));

test('mapPool never runs more than the limit at once and keeps the input order', async () => {
  let inFlight = 0;
  let most = 0;
  const items = Array.from({ length: 50 }, (_, i) => i);
  const out = await mapPool(items, 4, async (x) => {
    inFlight++;
    most = Math.max(most, inFlight);
    // Later items finish first: the order of results must still be the input's.
    await new Promise((r) => setTimeout(r, (50 - x) % 7));
    inFlight--;
    return x * 2;
  });
  assert.equal(most, 4);
  assert.deepEqual(
    out,
    items.map((x) => x * 2),
  );
});

test('mapPool: fewer items than the limit, and none', async () => {
  assert.deepEqual(await mapPool([1, 2], 8, async (x) => x + 1), [2, 3]);
  assert.deepEqual(await mapPool([], 8, async (x: number) => x), []);
});

test('the first error stops new items and is thrown after the ones in flight settle', async () => {
  const started: number[] = [];
  const settled: number[] = [];
  const gates = Array.from({ length: 10 }, gate);
  const run = mapPool(
    gates.map((_, i) => i),
    3,
    async (i) => {
      started.push(i);
      try {
        await gates[i]!.done;
        if (i === 1) throw new Error('item 1 failed');
        return i;
      } finally {
        settled.push(i);
      }
    },
  );
  let rejected = false;
  run.catch(() => (rejected = true));
  await tick();
  assert.deepEqual(started, [0, 1, 2]);
  gates[1]!.release();
  await tick();
  // Item 1 failed: nothing new starts, and the caller waits for 0 and 2 (their files may still be open).
  assert.deepEqual(started, [0, 1, 2]);
  assert.equal(rejected, false);
  gates[0]!.release();
  gates[2]!.release();
  await assert.rejects(run, { message: 'item 1 failed' });
  assert.deepEqual(started, [0, 1, 2]);
  assert.deepEqual([...settled].sort(), [0, 1, 2]);
});

test('a cancel starts no further item and rejects with CancelledError', async () => {
  let cancel = false;
  const started: number[] = [];
  const run = mapPool(
    Array.from({ length: 100 }, (_, i) => i),
    2,
    async (i) => {
      started.push(i);
      if (i === 5) cancel = true;
      await tick();
      return i;
    },
    { shouldCancel: () => cancel },
  );
  await assert.rejects(run, (e: Error) => e instanceof CancelledError && e.message === 'cancelled');
  // Item 5 and the one beside it in flight, nothing after.
  assert.ok(started.length <= 7, `${started.length} started`);
  assert.ok(started.includes(5));
});

test('Slots caps the holders across pools and gives every slot back', async () => {
  const slots = new Slots(3);
  let most = 0;
  const order: string[] = [];
  const work = (name: string) =>
    slots.run(async () => {
      most = Math.max(most, slots.inUse);
      order.push(name);
      await tick();
      return name;
    });
  // Two pools of 4 over one set of slots: never more than 3 holders.
  const [a, b] = await Promise.all([
    mapPool(['a0', 'a1', 'a2', 'a3'], 4, work),
    mapPool(['b0', 'b1', 'b2', 'b3'], 4, work),
  ]);
  assert.deepEqual(a, ['a0', 'a1', 'a2', 'a3']);
  assert.deepEqual(b, ['b0', 'b1', 'b2', 'b3']);
  assert.equal(most, 3);
  assert.equal(slots.inUse, 0, 'every slot given back');
  assert.equal(order.length, 8);
  // A holder that throws gives its slot back too.
  await assert.rejects(
    slots.run(async () => {
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
  assert.equal(slots.inUse, 0);
});
