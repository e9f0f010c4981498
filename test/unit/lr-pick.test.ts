/**
 * Step 2's warning that teaches: is a picked LR right of the range test's loss minimum? Checked on the fastai
 * range-test fixtures (real curves with their suggestions) and on a curve smoothed by the core's own smoothLosses.
 * Also the catalog messages' <strong>/<code> runs that RichText.svelte renders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lrRangeSchedule, smoothLosses } from '../../src-main/core/lrfind/suggest';
import { lrAtMinimum, pastMinimum } from '../../src-renderer/src/components/lrPick';
import { richSegments } from '../../src-renderer/src/components/richText';

interface LrFindCase {
  name: string;
  lrs: number[];
  smoothed: (number | null)[];
  valley: { lr: number; index: number };
  steep: { lr: number; index: number };
  minDiv10: { lr: number; index: number };
}

const cases = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'schedules', 'lrfind.json'), 'utf8')) as {
    cases: LrFindCase[];
  }
).cases;

test('the fixtures: the suggestions are never past the minimum; ten times the minimum LR is', () => {
  assert.ok(cases.length > 0);
  for (const c of cases) {
    const minLr = lrAtMinimum(c.lrs, c.smoothed);
    assert.ok(minLr !== null, c.name);
    for (const s of [c.valley, c.steep, c.minDiv10]) {
      assert.equal(pastMinimum(c.lrs, c.smoothed, s.lr), null, `${c.name}: ${s.lr} is left of ${minLr}`);
    }
    assert.equal(pastMinimum(c.lrs, c.smoothed, minLr * 10), minLr, `${c.name}: 10 × the minimum is past it`);
    assert.equal(pastMinimum(c.lrs, c.smoothed, minLr), null, `${c.name}: the minimum itself is not past it`);
    // With the range test's own minimum (fastai's window): min/10 is a tenth of it, so 10 × that is the boundary.
    const marked = c.minDiv10.index;
    const markedLr = c.lrs[marked]!;
    assert.ok(Math.abs(markedLr / 10 - c.minDiv10.lr) <= 1e-12 * markedLr, `${c.name}: min/10 is a tenth of it`);
    assert.equal(pastMinimum(c.lrs, c.smoothed, c.valley.lr, marked), null, `${c.name}: valley left of it`);
    assert.equal(pastMinimum(c.lrs, c.smoothed, markedLr * 1.01, marked), markedLr, `${c.name}: just right of it`);
  }
});

test('a curve still falling at the end of the sweep: the marked minimum decides, not the last point', () => {
  const lrs = lrRangeSchedule(1e-7, 100, 60);
  const smoothed = smoothLosses(
    lrs.map((lr) => 2 - 0.1 * Math.log10(lr)),
    0.9,
  );
  const last = lrs.length - 1;
  assert.equal(lrAtMinimum(lrs, smoothed), lrs[last], 'the lowest point is the last one');
  assert.equal(pastMinimum(lrs, smoothed, 50), null, 'no warning from the whole curve');
  // fastai's window ends 5 points early: its minimum is at last - 5, and 50 is right of it.
  assert.equal(pastMinimum(lrs, smoothed, 50, last - 5), lrs[last - 5]);
});

test('a smoothed curve that falls, bottoms out at 1e-2 and blows up (NaN at the end)', () => {
  const lrs = lrRangeSchedule(1e-6, 10, 70);
  // Loss falls with log10(lr) down to a minimum at 1e-2, then rises fast; the last points diverge.
  const raw = lrs.map((lr) => {
    const x = Math.log10(lr) + 2;
    return x <= 0 ? 2 + 0.05 * x * x : 2 + 3 * x * x;
  });
  const smoothed: (number | null)[] = smoothLosses(raw, 0.5);
  smoothed[68] = null;
  smoothed[69] = Number.NaN;
  const minLr = lrAtMinimum(lrs, smoothed);
  assert.ok(minLr !== null && minLr > 5e-3 && minLr < 2e-2, `minimum near 1e-2 (${minLr})`);
  assert.equal(pastMinimum(lrs, smoothed, 1e-3), null, 'ten times smaller: fine');
  assert.equal(pastMinimum(lrs, smoothed, 0.3), minLr, 'right of the minimum: warned');
  assert.equal(pastMinimum(lrs, smoothed, Number.NaN), null);
});

test('no finite point: no minimum, no warning', () => {
  assert.equal(lrAtMinimum([1e-3, 1e-2], [null, Number.NaN]), null);
  assert.equal(pastMinimum([1e-3, 1e-2], [null, null], 1), null);
  assert.equal(lrAtMinimum([], []), null);
});

test('richSegments: plain text and <strong>/<code> runs, in order; anything else stays text', () => {
  assert.deepEqual(richSegments('Pick <strong>left of the minimum</strong> in <code>train/</code>.'), [
    { tag: null, text: 'Pick ' },
    { tag: 'strong', text: 'left of the minimum' },
    { tag: null, text: ' in ' },
    { tag: 'code', text: 'train/' },
    { tag: null, text: '.' },
  ]);
  assert.deepEqual(richSegments('<strong>a</strong>'), [{ tag: 'strong', text: 'a' }]);
  assert.deepEqual(richSegments('no marks <b>x</b>'), [{ tag: null, text: 'no marks <b>x</b>' }]);
  assert.deepEqual(richSegments(''), []);
});
