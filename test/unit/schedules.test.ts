import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  annealCos,
  applyWarmup,
  rampStart,
  buildSchedule,
  constantSchedule,
  cyclicSchedule,
  FASTAI_ONE_CYCLE,
  fastaiOneCycle,
  groupLrs,
  groupMultipliers,
  oneCycleSchedule,
  ScheduleParamError,
  sgdrCycleLengths,
  sgdrSchedule,
  sgdrTotalIters,
  type GroupSpec,
  type ScheduleSpec,
} from '../../src-shared/schedules';
import { assertCloseAll } from '../helpers/exactChecks';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'schedules');
const REL = 1e-6;
const assertClose = (actual: readonly number[], expected: readonly number[], what: string) =>
  assertCloseAll(actual, expected, `${what} (against PyTorch)`, REL);

interface ScheduleCase {
  name: string;
  spec: ScheduleSpec;
  totalIters: number | null;
  lr: number[];
  momentum?: number[];
  cycleEnds?: number[];
}

interface GroupCase {
  name: string;
  spec: ScheduleSpec;
  totalIters: number;
  groups: GroupSpec;
  groupLr: number[][];
}

/** Fixture files this suite has read (each with at least one case). */
const read = new Set<string>();
/** Fixture files another suite checks, and which. */
const ELSEWHERE: Record<string, string> = { 'lrfind.json': 'lrfind-suggest.test.ts' };

function load<T>(kind: string): T[] {
  const file = `${kind}.json`;
  const cases = (JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as { cases: T[] }).cases;
  assert.ok(cases.length > 0, `${file} has no cases`);
  read.add(file);
  return cases;
}

const throwsParam = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof ScheduleParamError && re.test(e.message));

describe('schedules match PyTorch fixtures', () => {
  for (const kind of ['constant', 'step', 'multistep', 'exp', 'warmup', 'cyclic', 'sgdr', 'onecycle']) {
    describe(kind, () => {
      for (const c of load<ScheduleCase>(kind)) {
        it(c.name, () => {
          const s = buildSchedule(c.spec, c.totalIters ?? undefined);
          assertClose(s.lr, c.lr, 'lr');
          if (c.momentum) {
            assert.ok(s.momentum, 'momentum expected');
            assertClose(s.momentum, c.momentum, 'momentum');
          } else {
            assert.equal(s.momentum, undefined);
          }
          assert.deepEqual(s.cycleEnds, c.cycleEnds ?? [], 'cycle ends (none without cycles)');
        });
      }
    });
  }

  describe('per-group LRs', () => {
    for (const c of load<GroupCase>('groups')) {
      it(c.name, () => {
        const per = groupLrs(buildSchedule(c.spec, c.totalIters).lr, c.groups);
        assert.equal(per.length, c.groupLr.length);
        per.forEach((lr, g) => assertClose(lr, c.groupLr[g]!, `group ${g}`));
      });
    }
  });

  it('covers every fixture file', () => {
    const files = readdirSync(FIXTURES).sort();
    assert.ok(files.length > 0, `no fixtures in ${FIXTURES}`);
    assert.deepEqual(files, [...read, ...Object.keys(ELSEWHERE)].sort(), 'fixture files read here or elsewhere');
    for (const [file, suite] of Object.entries(ELSEWHERE)) {
      // It joins the path as `'fixtures', 'schedules', FILE`.
      const src = readFileSync(join(import.meta.dirname, suite), 'utf8');
      assert.ok(src.includes(`'fixtures', 'schedules', '${file}'`), `${suite} reads ${file}`);
    }
  });
});

describe('sgdr', () => {
  it('cycle lengths and totals follow T_0 * T_mult^k', () => {
    const p = { lr: 0.1, cycleLen: 1, cycleMult: 2, itersPerEpoch: 10, cycles: 3 };
    assert.deepEqual(sgdrCycleLengths(p, 3), [10, 20, 40]);
    assert.equal(sgdrTotalIters(p), 70);
    assert.deepEqual(sgdrSchedule(p).cycleEnds, [9, 29, 69]);
  });

  it('rounds fractional first cycles half up', () => {
    assert.deepEqual(sgdrCycleLengths({ lr: 1, cycleLen: 0.25, itersPerEpoch: 10 }, 2), [3, 3]);
  });

  it('fastai warm start: lr/100 while the iteration is below 1/20 of the cycle, cosine underneath', () => {
    const p = { lr: 0.1, cycleLen: 2, itersPerEpoch: 20, cycles: 2, etaMin: 0.001 };
    const plain = sgdrSchedule(p);
    const warm = sgdrSchedule({ ...p, fastaiWarmStart: true });
    // T_0 = 40 -> iterations 0 and 1 (< 40/20 = 2) are warm.
    assert.deepEqual(warm.lr.slice(0, 2), [0.001, 0.001]);
    assert.deepEqual(warm.lr.slice(2), plain.lr.slice(2));
    assert.deepEqual(warm.cycleEnds, plain.cycleEnds);
  });

  it('fastai warm start with short cycles touches only the first iteration', () => {
    const warm = sgdrSchedule({ lr: 0.1, cycleLen: 1, itersPerEpoch: 10, cycles: 3, fastaiWarmStart: true });
    const plain = sgdrSchedule({ lr: 0.1, cycleLen: 1, itersPerEpoch: 10, cycles: 3 });
    assert.equal(warm.lr[0], 0.001);
    assert.deepEqual(warm.lr.slice(1), plain.lr.slice(1));
  });

  it('fastai warm start uses the current cycle length, like CosAnneal (a huge cycleMult warms cycle 2 too)', () => {
    const warm = sgdrSchedule({
      lr: 1,
      cycleLen: 1,
      itersPerEpoch: 4,
      cycleMult: 25,
      cycles: 2,
      fastaiWarmStart: true,
    });
    // cycle 2 has 100 iterations: global iterations 4 (< 100/20 = 5) is warm, 5 is not.
    assert.equal(warm.lr[4], 0.01);
    assert.notEqual(warm.lr[5], 0.01);
  });

  it('explains bad parameters', () => {
    throwsParam(
      () => sgdrSchedule({ lr: 0.1, cycleLen: 1, itersPerEpoch: 5, cycleMult: 1.5, cycles: 2 }),
      /cycleMult must be an integer >= 1/,
    );
    throwsParam(
      () => sgdrSchedule({ lr: 0.1, cycleLen: 0.01, itersPerEpoch: 5, cycles: 2 }),
      /round to at least 1 iteration/,
    );
    throwsParam(() => sgdrSchedule({ lr: 0.1, cycleLen: 1, itersPerEpoch: 5 }), /either a total length or cycles/);
    throwsParam(
      () => sgdrSchedule({ lr: 0.1, cycleLen: 1, itersPerEpoch: 5, cycles: 1, etaMin: 0.2 }),
      /etaMin must be <= lr/,
    );
    throwsParam(
      () => sgdrSchedule({ lr: 0.1, cycleLen: 1, itersPerEpoch: 2.5, cycles: 1 }),
      /itersPerEpoch must be an integer/,
    );
  });
});

describe('cyclic', () => {
  it('reports the last iteration of each complete cycle', () => {
    const s = cyclicSchedule({ baseLr: 0.001, maxLr: 0.01, stepSizeUp: 3, stepSizeDown: 2 }, 12);
    assert.deepEqual(s.cycleEnds, [4, 9]);
    assertClose([s.lr[3]!, s.lr[5]!], [0.01, 0.001], 'peak and trough');
  });

  it('explains bad parameters', () => {
    throwsParam(() => cyclicSchedule({ baseLr: 0.01, maxLr: 0.001, stepSizeUp: 2 }, 5), /maxLr must be >= baseLr/);
    throwsParam(() => cyclicSchedule({ baseLr: 0.001, maxLr: 0.01, stepSizeUp: 0 }, 5), /stepSizeUp must be > 0/);
    throwsParam(
      () => cyclicSchedule({ baseLr: 0.001, maxLr: 0.01, stepSizeUp: 2, baseMomentum: 0.8 }, 5),
      /baseMomentum and maxMomentum must be given together/,
    );
    throwsParam(
      () => cyclicSchedule({ baseLr: 0.001, maxLr: 0.01, stepSizeUp: 2, mode: 'zigzag' as 'triangular' }, 5),
      /mode must be one of/,
    );
  });
});

describe('one-cycle', () => {
  it('fastai preset: lr from max/25 up to max and down to max/1e5; momentum 0.95 -> 0.85 -> 0.95', () => {
    const n = 200;
    const s = oneCycleSchedule(fastaiOneCycle(0.01), n);
    assert.ok(Math.abs(s.lr[0]! - 0.01 / 25) < 1e-15);
    assert.ok(Math.abs(s.lr[n - 1]! - 0.01 / 1e5) < 1e-15);
    const peak = s.lr.indexOf(Math.max(...s.lr));
    assert.equal(peak, 0.25 * n - 1);
    assert.equal(s.momentum![0], 0.95);
    assert.ok(Math.abs(s.momentum![peak]! - 0.85) < 1e-12);
    assert.ok(Math.abs(s.momentum![n - 1]! - 0.95) < 1e-12);
    assert.deepEqual(buildSchedule({ kind: 'onecycle', preset: 'fastai', maxLr: 0.01 }, n), s);
    assert.equal(FASTAI_ONE_CYCLE.pctStart, 0.25);
  });

  it('explicit fields override the preset', () => {
    const s = buildSchedule({ kind: 'onecycle', preset: 'fastai', maxLr: 0.01, pctStart: 0.5 }, 100);
    assert.equal(s.lr.indexOf(Math.max(...s.lr)), 49);
  });

  it('a zero-length warm-up phase (pct * total == 1) starts at the peak instead of dividing by zero', () => {
    const s = oneCycleSchedule({ maxLr: 0.02, pctStart: 0.1 }, 10);
    assert.equal(s.lr[0], 0.02);
    assert.ok(s.lr.every(Number.isFinite));
    assert.ok(Math.abs(s.lr[9]! - 0.02 / 25 / 1e4) < 1e-18);
  });

  it('cycleMomentum false leaves momentum undefined', () => {
    assert.equal(oneCycleSchedule({ maxLr: 0.01, cycleMomentum: false }, 10).momentum, undefined);
  });

  it('cos anneal hits both ends', () => {
    assert.equal(annealCos(1, 0, 0), 1);
    assert.ok(Math.abs(annealCos(1, 0, 1)) < 1e-16);
  });

  it('explains bad parameters', () => {
    throwsParam(() => oneCycleSchedule({ maxLr: 0.01, pctStart: 1.5 }, 10), /pctStart must be between 0 and 1/);
    throwsParam(
      () => oneCycleSchedule({ maxLr: 0.01, anneal: 'exp' as 'cos' }, 10),
      /anneal must be 'cos' or 'linear'/,
    );
    throwsParam(() => oneCycleSchedule({ maxLr: -1 }, 10), /maxLr must be > 0/);
    throwsParam(() => oneCycleSchedule({ maxLr: 0.01 }, 0), /totalIters must be an integer >= 1/);
    throwsParam(() => buildSchedule({ kind: 'onecycle', maxLr: 0.01, preset: 'keras' as 'fastai' }, 10), /preset/);
  });
});

describe('warm-up', () => {
  it('ramps from startFactor * first LR to the schedule and shifts cycle ends', () => {
    const s = buildSchedule(
      { kind: 'sgdr', lr: 0.1, cycleLen: 1, itersPerEpoch: 4, cycles: 2, warmupIters: 4, warmupStartFactor: 0 },
      undefined,
    );
    assert.equal(s.lr.length, 12);
    assertClose(s.lr.slice(0, 5), [0, 0.025, 0.05, 0.075, 0.1], 'ramp');
    assert.deepEqual(s.cycleEnds, [7, 11]);
  });

  it('holds the first momentum during the warm-up', () => {
    const s = buildSchedule({ kind: 'onecycle', maxLr: 0.01, warmupIters: 3 }, 13);
    assert.deepEqual(s.momentum!.slice(0, 4), [0.95, 0.95, 0.95, 0.95]);
    assert.equal(s.lr.length, 13);
    assert.deepEqual(s.cycleEnds, [12]);
  });

  it('rampStart scales the first iterations in place: same length, same cycle ends, the rest untouched', () => {
    const inner = buildSchedule({ kind: 'sgdr', lr: 0.1, cycleLen: 1, cycleMult: 2, cycles: 2, itersPerEpoch: 4 }, 12);
    const s = rampStart(inner, 4, 0.2);
    assert.equal(s.lr.length, inner.lr.length);
    assert.deepEqual(s.cycleEnds, inner.cycleEnds);
    assertClose(
      s.lr.slice(0, 4),
      [0.2, 0.4, 0.6, 0.8].map((f, i) => f * inner.lr[i]!),
      'ramp',
    );
    assert.deepEqual(s.lr.slice(4), inner.lr.slice(4));
    assert.deepEqual(rampStart(inner, 0).lr, inner.lr);
    throwsParam(() => rampStart(inner, 2, 1.5), /startFactor must be between 0 and 1/);
  });

  it('zero warm-up is the identity', () => {
    const inner = constantSchedule({ lr: 0.1 }, 3);
    assert.equal(applyWarmup(inner, { warmupIters: 0 }), inner);
  });

  it('explains bad parameters', () => {
    throwsParam(
      () => buildSchedule({ kind: 'constant', lr: 0.1, warmupIters: 5 }, 5),
      /warmupIters \(5\) must be less than/,
    );
    throwsParam(
      () => buildSchedule({ kind: 'constant', lr: 0.1, warmupIters: 2.5 }, 5),
      /warmupIters must be an integer/,
    );
    throwsParam(
      () => buildSchedule({ kind: 'constant', lr: 0.1, warmupIters: 2, warmupStartFactor: 2 }, 5),
      /between 0 and 1/,
    );
  });
});

describe('buildSchedule', () => {
  it('needs a length except for sgdr with cycles', () => {
    throwsParam(() => buildSchedule({ kind: 'constant', lr: 0.1 }), /totalIters is required for kind 'constant'/);
    throwsParam(
      () => buildSchedule({ kind: 'sgdr', lr: 0.1, cycleLen: 1, itersPerEpoch: 3 }),
      /unless cycles is given/,
    );
    assert.equal(buildSchedule({ kind: 'sgdr', lr: 0.1, cycleLen: 1, itersPerEpoch: 3, cycles: 2 }).lr.length, 6);
  });

  it('rejects unknown kinds and bad values with the parameter name', () => {
    throwsParam(() => buildSchedule({ kind: 'poly' } as unknown as ScheduleSpec, 5), /unknown schedule kind 'poly'/);
    throwsParam(() => buildSchedule({ kind: 'step', lr: 0.1, stepSize: 0 }, 5), /stepSize must be an integer >= 1/);
    throwsParam(
      () => buildSchedule({ kind: 'multistep', lr: 0.1, milestones: [] }, 5),
      /milestones must be a non-empty list/,
    );
    throwsParam(() => buildSchedule({ kind: 'exp', lr: Number.NaN, gamma: 0.9 }, 5), /lr must be a finite number/);
  });
});

describe('differential learning rates', () => {
  it('ratio r gives [1/r^2, 1/r, 1] for three groups', () => {
    assertClose(groupMultipliers({ ratio: 3 }), [1 / 9, 1 / 3, 1], 'r=3');
    assertClose(groupMultipliers({ ratio: 10 }), [0.01, 0.1, 1], 'r=10');
    assertClose(groupMultipliers({ ratio: 10, groups: 2 }), [0.1, 1], 'two groups');
  });

  it('explicit multipliers multiply every iteration', () => {
    assert.deepEqual(groupLrs([1, 2], { multipliers: [0.5, 1] }), [
      [0.5, 1],
      [1, 2],
    ]);
  });

  it('explains bad group specs', () => {
    throwsParam(() => groupMultipliers({ multipliers: [] }), /non-empty/);
    throwsParam(() => groupMultipliers({ multipliers: [1, 0] }), /multipliers\[1\] must be > 0/);
    throwsParam(() => groupMultipliers({ ratio: 0.5 }), /ratio must be >= 1/);
    throwsParam(() => groupMultipliers({ ratio: 3, groups: 0 }), /groups must be an integer >= 1/);
  });
});

describe('purity (pure math: data in, data out)', () => {
  it('schedules and lrfind/suggest import neither tfjs nor node: modules, only files of the project', () => {
    const root = join(import.meta.dirname, '..', '..');
    const schedules = join(root, 'src-shared', 'schedules');
    const files = [
      ...readdirSync(schedules).map((f) => join(schedules, f)),
      join(root, 'src-main', 'core', 'lrfind', 'suggest.ts'),
    ];
    for (const f of files) {
      const src = readFileSync(f, 'utf8');
      for (const m of src.matchAll(/from\s+'([^']+)'/g)) {
        // Schedules import only each other; suggest.ts also the shared messages its rules explain themselves in.
        const allowed = m[1]!.startsWith('./') || (f.endsWith('suggest.ts') && m[1]!.endsWith('/src-shared/messages'));
        assert.ok(allowed, `${f} imports ${m[1]}`);
      }
    }
  });
});
