/** util/eta.ts: the time left from the rate since a pass's first report, cached items not counted as work. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtaClock } from '../../src-main/core/util/eta';

test('the time left follows the rate since the first report, cached items excluded', () => {
  let now = 0;
  const clock = new EtaClock(() => now);
  // 400 of 1,000 were cached: done at once, they say nothing about the rate.
  assert.equal(clock.eta(400, 1000), null);
  now = 500;
  assert.equal(clock.eta(410, 1000), null, 'under a second measured');
  now = 2000;
  // 100 items in 2 s: 500 left take 10 s.
  assert.equal(clock.eta(500, 1000), 10);
  now = 4000;
  assert.equal(clock.eta(1000, 1000), 0);
});

test('no progress yet: no estimate rather than infinity', () => {
  let now = 0;
  const clock = new EtaClock(() => now);
  clock.eta(0, 10);
  now = 5000;
  assert.equal(clock.eta(0, 10), null);
});
