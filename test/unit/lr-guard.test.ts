/**
 * Step 7's guard (core/recipe/lrGuard.ts) on sweeps built with the range test's own LR ramp, smoothing and fastai
 * rules: a 12-step sweep that diverged early (its suggestions sit near 1e-7, where step 8 would learn nothing), a
 * healthy 100-step sweep, a long one that diverged, and a flat one. Every suggestion is within 10x of the head's LR
 * or flagged; the LR step 8 takes by default stays within 10x of the head's LR unless a long sweep diverged below it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lrRangeSchedule, smoothLosses, suggestLrs } from '../../src-main/core/lrfind/suggest';
import { guardUnfrozenLr, type SweepForGuard } from '../../src-main/core/recipe/lrGuard';

function sweep(lrs: number[], losses: number[], stoppedEarly: boolean): SweepForGuard {
  const smoothedLoss = smoothLosses(losses);
  const s = suggestLrs(lrs, smoothedLoss, { numIt: lrs.length });
  const suggestions = { valley: s.valley?.lr ?? null, steep: s.steep?.lr ?? null, minDiv10: s.minDiv10?.lr ?? null };
  return { lr: lrs, smoothedLoss, stoppedEarly, suggestions };
}

/** Within 10x below the head's LR, and not above it. */
const safe = (lr: number, lrHead: number) => lr >= lrHead / 10 && lr <= lrHead;

test('a 12-step sweep that diverged: every suggestion and the recommendation are safe or flagged', () => {
  // A trained head: the loss dips a little, then explodes at the 12th step (LR ~8e-7).
  const lrs = lrRangeSchedule(1e-7, 10, 100).slice(0, 12);
  const losses = [0.5, 0.49, 0.47, 0.46, 0.44, 0.43, 0.42, 0.45, 0.6, 1.2, 3, Infinity];
  const r = sweep(lrs, losses, true);
  const offered = Object.values(r.suggestions).filter((x): x is number => x !== null);
  assert.ok(offered.length > 0, 'fastai rules still suggest something on 12 points');
  const lrHead = 1e-3;
  const { recommended, warnings } = guardUnfrozenLr(r, lrHead, 'adamw');
  for (const [rule, lr] of Object.entries(r.suggestions)) {
    if (lr === null) continue;
    const warning = warnings[rule as keyof typeof warnings];
    assert.ok(safe(lr, lrHead) || warning !== null, `${rule} ${lr} is unflagged`);
    assert.match(warning ?? '', /more than 10x below|too short/, `${rule}: ${warning}`);
  }
  // The guarded suggestion stays within 10x of the head's LR: a jump after 12 points is a trained head's spike, not
  // the net's limit; a decade below it (~8e-8) step 8 would learn nothing.
  assert.ok(safe(recommended.lr, lrHead), `recommended ${recommended.lr} is not within 10x below ${lrHead}`);
  assert.equal(recommended.warning, null);
  for (const [head, optimizer] of [
    [1e-2, 'adamw'],
    [3e-3, 'adamw'],
    [1e-2, 'sgd'],
    [3e-4, 'sgd'],
  ] as const) {
    const g = guardUnfrozenLr(r, head, optimizer).recommended;
    assert.ok(safe(g.lr, head), `${optimizer}, head ${head}: recommended ${g.lr}`);
  }
});

test('a long sweep that diverged: step 8 stays a decade below the divergence point, flagged when that is low', () => {
  // 45 points, the loss falls, then diverges at the 45th (LR ~3.6e-4): a real limit, so it bounds step 8's LR.
  const lrs = lrRangeSchedule(1e-7, 10, 100).slice(0, 45);
  const losses = lrs.map((_, i) => (i < 44 ? 1 - 0.005 * i : Infinity));
  const r = sweep(lrs, losses, true);
  const { recommended } = guardUnfrozenLr(r, 1e-2, 'adamw');
  assert.ok(Math.abs(recommended.lr - lrs.at(-1)! / 10) < 1e-12, `recommended ${recommended.lr}`);
  assert.match(recommended.pick, /diverged/);
  assert.match(recommended.warning ?? '', /step 8 may learn little/);
});

test('a healthy 100-step sweep: the recommendation is the recipe default, no warning', () => {
  const lrs = lrRangeSchedule(1e-7, 10, 100);
  // Falls from 2.0 to 0.6 between 1e-4 and 1e-2, then rises and diverges past 1.
  const losses = lrs.map((lr) => {
    const x = Math.log10(lr);
    return x < -4 ? 2 : x < -2 ? 2 - 0.7 * (x + 4) : 0.6 + 2 * (x + 2) ** 2;
  });
  const r = sweep(lrs, losses, false);
  for (const [lrHead, optimizer, lr] of [
    [1e-2, 'adamw', 1e-3],
    [1e-2, 'sgd', 1e-3],
  ] as const) {
    const { recommended } = guardUnfrozenLr(r, lrHead, optimizer);
    assert.equal(recommended.lr, lr, optimizer);
    assert.equal(recommended.warning, null, optimizer);
  }
});

test('a flat sweep: every suggestion is flagged as noise', () => {
  const lrs = lrRangeSchedule(1e-7, 10, 100);
  const losses = lrs.map((_, i) => 1 + 0.001 * Math.sin(i));
  const r = sweep(lrs, losses, false);
  const { warnings } = guardUnfrozenLr(
    { ...r, suggestions: { valley: 1e-4, steep: 2e-4, minDiv10: 5e-4 } },
    1e-3,
    'adamw',
  );
  for (const w of Object.values(warnings)) assert.match(w ?? '', /flat/);
});
