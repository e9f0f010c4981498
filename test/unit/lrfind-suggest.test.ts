import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { englishText } from '../../src-shared/messages';
import { lrRangeSchedule, shouldStop, smoothLosses, suggestLrs } from '../../src-main/core/lrfind/suggest';

interface LrFindCase {
  name: string;
  numIt: number;
  lrs: number[];
  rawLosses: (number | null)[];
  smoothed: (number | null)[];
  stopIndex: number | null;
  valley: { lr: number; index: number };
  steep: { lr: number; index: number };
  minDiv10: { lr: number; index: number };
}

const close = (a: number, b: number, rel = 1e-9) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

describe('lrRangeSchedule', () => {
  it('exp: geometric from start to exactly end', () => {
    const lrs = lrRangeSchedule();
    assert.equal(lrs.length, 100);
    assert.equal(lrs[0], 1e-7);
    assert.ok(close(lrs[99]!, 10));
    const ratio = lrs[1]! / lrs[0]!;
    for (let i = 1; i < 100; i++) assert.ok(close(lrs[i]! / lrs[i - 1]!, ratio, 1e-9));
    assert.ok(close(lrs[33]!, 1e-7 * (10 / 1e-7) ** (33 / 99)));
  });

  it('linear: evenly spaced', () => {
    assert.deepEqual(lrRangeSchedule(0, 1, 5, 'linear'), [0, 0.25, 0.5, 0.75, 1]);
  });

  it('one iteration is just the start', () => {
    assert.deepEqual(lrRangeSchedule(1e-5, 1, 1), [1e-5]);
  });

  it('rejects impossible ranges', () => {
    assert.throws(() => lrRangeSchedule(0, 1, 10, 'exp'), /start > 0/);
    assert.throws(() => lrRangeSchedule(1e-7, 10, 0), /iters must be an integer >= 1/);
    assert.throws(() => lrRangeSchedule(1e-7, 10, 10, 'cos' as 'exp'), /mode must be/);
  });
});

describe('smoothLosses', () => {
  it('bias correction makes a constant curve stay constant', () => {
    for (const v of smoothLosses([2, 2, 2, 2])) assert.ok(close(v, 2));
  });

  it('is the corrected EMA', () => {
    const losses = [3, 1, 4, 1, 5];
    let avg = 0;
    const expected = losses.map((l, i) => {
      avg = 0.9 * avg + 0.1 * l;
      return avg / (1 - 0.9 ** (i + 1));
    });
    smoothLosses(losses, 0.9).forEach((v, i) => assert.ok(close(v, expected[i]!, 1e-12), `smoothed[${i}]`));
    assert.equal(smoothLosses([7])[0], 7);
  });

  it('rejects beta outside [0, 1)', () => {
    assert.throws(() => smoothLosses([1], 1), /beta/);
  });
});

describe('shouldStop', () => {
  it('stops on divergence or non-finite loss', () => {
    assert.equal(shouldStop(4.1, 1), true);
    assert.equal(shouldStop(3.9, 1), false);
    assert.equal(shouldStop(2.1, 1, 2), true);
    assert.equal(shouldStop(Number.NaN, 1), true);
    assert.equal(shouldStop(Number.POSITIVE_INFINITY, 1), true);
    assert.equal(shouldStop(1e9, Number.POSITIVE_INFINITY), false);
  });
});

describe('suggestLrs matches fastai (fixtures from a transcription of fastai/callback/schedule.py)', () => {
  const cases = (
    JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'schedules', 'lrfind.json'), 'utf8')) as {
      cases: LrFindCase[];
    }
  ).cases;
  for (const c of cases) {
    it(c.name, () => {
      const raw = c.rawLosses.map((x) => x ?? Number.NaN);
      const smoothed = smoothLosses(raw);
      // Run the test loop as the trainer would: record, update best, stop on divergence.
      let best = Number.POSITIVE_INFINITY;
      let stop: number | null = null;
      for (let i = 0; i < smoothed.length; i++) {
        const expected = c.smoothed[i];
        if (expected === undefined) break;
        if (expected === null) assert.ok(Number.isNaN(smoothed[i]!));
        else assert.ok(close(smoothed[i]!, expected, 1e-9), `smoothed[${i}]`);
        if (smoothed[i]! < best) best = smoothed[i]!;
        if (shouldStop(smoothed[i]!, best)) {
          stop = i;
          break;
        }
      }
      assert.equal(stop, c.stopIndex);
      const n = stop === null ? c.lrs.length : stop + 1;
      const s = suggestLrs(c.lrs.slice(0, n), smoothed.slice(0, n), { numIt: c.numIt });
      assert.equal(s.valley?.index, c.valley.index, 'valley index');
      assert.ok(close(s.valley!.lr, c.valley.lr), 'valley lr');
      assert.equal(s.steep?.index, c.steep.index, 'steep index');
      assert.ok(close(s.steep!.lr, c.steep.lr), 'steep lr');
      assert.equal(s.minIndex, c.minDiv10.index);
      assert.equal(s.minDiv10?.index, c.minDiv10.index);
      assert.ok(close(s.minDiv10!.lr, c.minDiv10.lr), 'minimum / 10');
      for (const sug of [s.valley, s.steep, s.minDiv10]) assert.ok(sug!.rule.length > 10);
    });
  }
});

describe('suggestLrs by definition', () => {
  // Loss falls ever faster until iteration 59, then rises: valley, steepest drop and minimum are all known.
  const lrs = lrRangeSchedule(1e-7, 10, 100);
  const losses = lrs.map((_, i) => (i < 60 ? 2 - (i / 60) ** 2 : 2 - (59 / 60) ** 2 + (i - 59) * 0.05));

  it('finds valley, steepest point and minimum', () => {
    const s = suggestLrs(lrs, losses);
    assert.deepEqual(s.window, { start: 10, end: 95 });
    // Longest falling run: points 10..59 (50 points); fastai's start is one before it (9), so
    // idx = 9 + int(50/3) + int(50/6) = 9 + 16 + 8.
    assert.equal(s.valley?.index, 33);
    assert.equal(s.valley?.lr, lrs[33]);
    assert.equal(s.steep?.index, 58);
    assert.equal(s.minIndex, 59);
    assert.equal(s.minDiv10?.lr, lrs[59]! / 10);
    assert.equal(s.minDiv10?.loss, losses[59]);
    assert.match(s.valley!.rule, /valley/);
    assert.match(s.steep!.rule, /steep/);
    assert.match(s.minDiv10!.rule, /lowest/);
    assert.equal(s.note, undefined);
    // The same as codes, which the wizard says in the user's language; the LRs in them as the English writes them.
    assert.deepEqual(s.minDiv10!.ruleMessage, { code: 'lrRule.minDiv10', params: { lr: lrs[59]!.toExponential(1) } });
    assert.equal(s.valley!.ruleMessage.code, 'lrRule.valley');
    assert.equal(s.steep!.ruleMessage.code, 'lrRule.steep');
    for (const sug of [s.valley!, s.steep!, s.minDiv10!]) assert.equal(sug.rule, englishText(sug.ruleMessage));
  });

  it('stops at the first NaN, like lr_find', () => {
    const withNan = [...losses];
    withNan[50] = Number.NaN;
    const s = suggestLrs(lrs, withNan);
    assert.deepEqual(s.window, { start: 10, end: 50 });
    assert.equal(s.minIndex, 49);
  });

  it('gives null suggestions for short or useless curves', () => {
    for (const [l, x] of [
      [lrs.slice(0, 8), losses.slice(0, 8)],
      [lrs, lrs.map(() => Number.NaN)],
      [[], []],
    ] as [number[], number[]][]) {
      const s = suggestLrs(l, x);
      assert.equal(s.valley, null);
      assert.equal(s.steep, null);
      assert.equal(s.minDiv10, null);
      assert.equal(s.minIndex, null);
      assert.match(s.note!, /usable point/);
      assert.equal(s.noteMessages?.[0]?.code, 'lrRule.tooFewPoints');
    }
  });

  it('a rising curve has no valley or steep point but still a minimum', () => {
    const s = suggestLrs(
      lrs,
      lrs.map((_, i) => 1 + i * 0.01),
    );
    assert.equal(s.valley, null);
    assert.equal(s.steep, null);
    assert.equal(s.minIndex, 10);
    assert.match(s.note!, /never falls/);
    assert.deepEqual(
      s.noteMessages?.map((m) => m.code),
      ['lrRule.noSteep', 'lrRule.noValley'],
    );
  });

  it('never lands before the curve (fastai would wrap to the last point)', () => {
    // Only the first two points fall: fastai computes index -1 here.
    const s = suggestLrs([1, 2, 3, 4, 5, 6], [5, 4, 6, 7, 8, 9], { skipStart: 0, skipEnd: 0 });
    assert.equal(s.valley?.index, 0);
  });

  it('refuses mismatched arrays', () => {
    assert.throws(() => suggestLrs([1, 2], [1]), /differ in length/);
  });
});
