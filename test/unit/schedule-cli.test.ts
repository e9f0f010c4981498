/**
 * `finetune schedule` through the CLI's entry point (main), checked against numbers the code under test did not
 * produce: PyTorch's schedulers (test/fixtures/schedules, scripts/fixtures/make_schedule_fixtures.py) and values
 * worked out by hand from the documented formulas and defaults.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../src-main/cli/main';
import { assertCloseAll } from '../helpers/exactChecks';

const assertClose = (actual: readonly number[], expected: readonly number[], what: string) =>
  assertCloseAll(actual, expected, what, 1e-6);

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'schedules');
const KINDS = ['constant', 'step', 'multistep', 'exp', 'cyclic', 'sgdr', 'onecycle'] as const;

async function run(args: string | string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const argv = typeof args === 'string' ? args.split(/\s+/).filter(Boolean) : args;
  const code = await main(['schedule', ...argv], { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err };
}

interface Payload {
  lr: number[];
  momentum?: number[];
  cycleEnds: number[];
}

async function json(args: string | string[]): Promise<Payload> {
  const r = await run(typeof args === 'string' ? `${args} --json` : [...args, '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  return JSON.parse(r.out) as Payload;
}

/** Equal up to float rounding (PyTorch computes some schedules in a different order). */
interface FixtureCase {
  name: string;
  spec: Record<string, unknown> & { kind: string; itersPerEpoch?: number };
  totalIters: number | null;
  lr: number[];
  momentum?: number[];
  cycleEnds?: number[];
}

function fixtures(file: string): FixtureCase[] {
  return (JSON.parse(readFileSync(join(FIXTURES, `${file}.json`), 'utf8')) as { cases: FixtureCase[] }).cases;
}

/** The flags that ask the CLI for a fixture's schedule: each spec field as its --kebab-case flag. */
function flagsFor(c: FixtureCase): string[] {
  const { kind, itersPerEpoch, cycleMomentum, ...rest } = c.spec;
  const perEpoch = itersPerEpoch ?? c.totalIters!;
  const args = ['--kind', kind, '--iters-per-epoch', String(perEpoch)];
  if (c.totalIters !== null) args.push('--epochs', String(c.totalIters / perEpoch));
  if (cycleMomentum === false) args.push('--no-momentum');
  for (const [key, value] of Object.entries(rest)) {
    args.push(`--${key.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)}`);
    args.push(Array.isArray(value) ? value.join(',') : String(value));
  }
  return args;
}

describe('finetune schedule', () => {
  it('--help lists every kind and every parameter with defaults', async () => {
    const r = await run('--help');
    assert.equal(r.code, 0);
    for (const kind of KINDS) assert.match(r.out, new RegExp(`\\b${kind}\\b`));
    for (const flag of [
      '--lr',
      '--base-lr',
      '--max-lr',
      '--step-size-up',
      '--step-size-down',
      '--mode',
      '--gamma',
      '--cycle-len',
      '--cycle-mult',
      '--cycles',
      '--eta-min',
      '--pct-start',
      '--div-factor',
      '--final-div-factor',
      '--anneal',
      '--warmup-iters',
      '--warmup-start-factor',
      '--milestones',
      '--step-size',
      '--fastai-warm-start',
      '--base-momentum',
      '--max-momentum',
      '--no-momentum',
      '--preset',
      '--iters-per-epoch',
      '--epochs',
      '--json',
    ]) {
      assert.ok(r.out.includes(flag), `help mentions ${flag}`);
    }
    assert.match(r.out, /--pct-start \[0\.3\]/);
    assert.match(r.out, /--div-factor \[25\]/);
  });

  describe('prints what PyTorch computes for the same parameters', () => {
    for (const file of [...KINDS, 'warmup']) {
      for (const c of fixtures(file)) {
        it(`${file}: ${c.name}`, async () => {
          const p = await json(flagsFor(c));
          assertClose(p.lr, c.lr, 'lr');
          if (c.momentum) assertClose(p.momentum ?? [], c.momentum, 'momentum');
          else assert.equal(p.momentum, undefined);
          assert.deepEqual(p.cycleEnds, c.cycleEnds ?? []);
        });
      }
    }
  });

  it('sgdr with --cycles needs no --epochs and reports cycle ends', async () => {
    const p = await json('--kind sgdr --iters-per-epoch 5 --cycles 3 --cycle-mult 2 --lr 0.1 --eta-min 0.001');
    // Cycles of 5, 10 and 20 iterations; within one of T: 0.001 + 0.099 * (1 + cos(pi * t / T)) / 2.
    assert.equal(p.lr.length, 35);
    assert.deepEqual(p.cycleEnds, [4, 14, 34]);
    assert.equal(p.momentum, undefined);
    assertClose(
      [0, 1, 4, 5, 14, 15, 34].map((i) => p.lr[i]!),
      [0.1, 0.0905463412215599, 0.010453658778440109, 0.1, 0.0034227024433899004, 0.1, 0.001609427140540686],
      'lr',
    );
  });

  it('prints keys in the documented order, momentum only where defined', async () => {
    const r = await run('--kind onecycle --iters-per-epoch 10 --epochs 3 --lr 0.01 --json');
    assert.match(r.out, /^\{"lr":\[.*\],"momentum":\[.*\],"cycleEnds":\[29\]\}$/);
    const c = await run('--kind constant --iters-per-epoch 10 --epochs 1 --json');
    assert.match(c.out, /^\{"lr":\[.*\],"cycleEnds":\[\]\}$/);
  });

  it('fractional epochs round to whole iterations', async () => {
    const p = await json('--kind constant --iters-per-epoch 7 --epochs 2.5 --lr 0.01');
    assert.equal(p.lr.length, 18);
    assert.ok(p.lr.every((x) => x === 0.01));
  });

  it('uses the documented defaults', async () => {
    // step: --lr 1e-3, --step-size = iters-per-epoch, --gamma 0.1.
    const step = await json('--kind step --iters-per-epoch 4 --epochs 3');
    assertClose(step.lr, [1e-3, 1e-3, 1e-3, 1e-3, 1e-4, 1e-4, 1e-4, 1e-4, 1e-5, 1e-5, 1e-5, 1e-5], 'step');
    // exp: --gamma 0.99.
    assertClose((await json('--kind exp --iters-per-epoch 3 --epochs 1')).lr, [1e-3, 9.9e-4, 9.801e-4], 'exp');
    // cyclic: --base-lr 1e-4, --max-lr 1e-3, --step-size-up 2 * iters-per-epoch, triangular; momentum not cycled.
    const cyc = await json('--kind cyclic --iters-per-epoch 2 --epochs 4');
    assertClose(cyc.lr, [1e-4, 3.25e-4, 5.5e-4, 7.75e-4, 1e-3, 7.75e-4, 5.5e-4, 3.25e-4], 'cyclic');
    assert.equal(cyc.momentum, undefined);
    // onecycle: starts at lr / 25, peaks at lr, ends at lr / 25 / 1e4; momentum 0.95 -> 0.85 -> 0.95.
    const oc = await json('--kind onecycle --iters-per-epoch 10 --epochs 2');
    assertClose([oc.lr[0]!, Math.max(...oc.lr), oc.lr[19]!], [4e-5, 1e-3, 4e-9], 'onecycle lr');
    assertClose([oc.momentum![0]!, Math.min(...oc.momentum!), oc.momentum![19]!], [0.95, 0.85, 0.95], 'momentum');
  });

  it('passes the options PyTorch has no fixture for', async () => {
    const ms = await json('--kind multistep --iters-per-epoch 10 --epochs 3 --lr 0.1 --milestones 10,20 --gamma 0.5');
    assert.deepEqual(ms.lr.slice(8, 12), [0.1, 0.1, 0.05, 0.05]);
    assert.equal(ms.lr[29], 0.025);

    // fastai's warm start: the first cycle's first batch at lr / 100, then the cosine from its second iteration.
    const warm = await json('--kind sgdr --iters-per-epoch 40 --cycles 1 --lr 0.1 --fastai-warm-start');
    assertClose(warm.lr.slice(0, 3), [0.001, 0.001, 0.0993844170297569], 'warm start');

    const exp = await json('--kind exp --iters-per-epoch 2 --epochs 1 --lr 1 --gamma 0.5');
    assert.deepEqual(exp.lr, [1, 0.5]);

    // --lr and --max-lr name the same peak.
    assert.deepEqual(
      await json('--kind onecycle --iters-per-epoch 5 --epochs 1 --max-lr 0.02'),
      await json('--kind onecycle --iters-per-epoch 5 --epochs 1 --lr 0.02'),
    );
  });

  it('prints a short summary without --json', async () => {
    const r = await run('--kind sgdr --iters-per-epoch 5 --epochs 3 --lr 0.1');
    assert.equal(r.code, 0);
    assert.match(r.out, /sgdr: 15 iterations/);
    assert.match(r.out, /lr: min 0\.009549, max 0\.1, first 0\.1, last 0\.009549/);
    assert.match(r.out, /cycle ends \(iteration\): 4, 9, 14/);
  });

  const bad: [string, RegExp][] = [
    ['', /--kind is required/],
    ['--kind poly --iters-per-epoch 3 --epochs 1', /--kind must be constant, step, .* or onecycle, got "poly"/],
    ['--kind constant --epochs 1', /--iters-per-epoch is required/],
    ['--kind constant --iters-per-epoch 0 --epochs 1', /--iters-per-epoch must be an integer >= 1, got "0"/],
    ['--kind constant --iters-per-epoch 3', /--epochs is required/],
    ['--kind constant --iters-per-epoch 3 --epochs 0', /--epochs must be a number > 0, got "0"/],
    ['--kind sgdr --iters-per-epoch 3', /--epochs is required \(or --cycles\)/],
    ['--kind constant --iters-per-epoch 3 --epochs 1 --lr abc', /--lr must be a number, got "abc"/],
    ['--kind constant --iters-per-epoch 3 --epochs 1 --gamma 0.5', /--gamma does not apply to --kind constant/],
    ['--kind constant --iters-per-epoch 3 --epochs 1 --frobnicate', /Unknown option '--frobnicate'/],
    ['--kind constant --iters-per-epoch 3 --epochs 1 extra', /Unexpected argument 'extra'/],
    ['--kind sgdr --iters-per-epoch 3 --cycles 2 --cycle-mult 1.5', /--cycle-mult must be an integer >= 1/],
    [
      '--kind cyclic --iters-per-epoch 3 --epochs 1 --mode zigzag',
      /--mode must be triangular, triangular2 or exp_range/,
    ],
    ['--kind onecycle --iters-per-epoch 3 --epochs 1 --anneal exp', /--anneal must be cos or linear/],
    ['--kind onecycle --iters-per-epoch 3 --epochs 1 --pct-start 1.5', /--pct-start must be between 0 and 1/],
    ['--kind multistep --iters-per-epoch 3 --epochs 1', /--milestones is required/],
    ['--kind multistep --iters-per-epoch 3 --epochs 1 --milestones 2,x', /--milestones must be comma-separated/],
    ['--kind multistep --iters-per-epoch 3 --epochs 1 --milestones 2,0x10', /--milestones must be comma-separated/],
    ['--kind constant --iters-per-epoch 3 --epochs 1 --lr 0x1', /--lr must be a number, got "0x1"/],
    ['--kind constant --iters-per-epoch 3 --epochs 1 --lr -1', /--lr must be > 0 \(got -1\)/],
    ['--kind cyclic --iters-per-epoch 3 --epochs 1 --lr 0.1 --max-lr 0.2', /--lr and --max-lr disagree/],
    ['--kind cyclic --iters-per-epoch 3 --epochs 1 --base-lr 0.1 --lr 0.01', /--max-lr must be >= --base-lr/],
    ['--kind exp --iters-per-epoch 3 --epochs 1 --warmup-iters 3', /--warmup-iters \(3\) must be less than/],
    ['--kind constant --iters-per-epoch 3 --epochs 0.1', /rounds to 0 iterations/],
    ['--kind sgdr --iters-per-epoch 3 --epochs 1 --cycle-len 0.1', /--cycle-len \* --iters-per-epoch must round/],
  ];
  for (const [args, re] of bad) {
    it(`exits 2 with one line on stderr for bad arguments: ${args || '(none)'}`, async () => {
      const r = await run(args);
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.equal(r.err.length, 1);
      assert.doesNotMatch(r.err[0]!, /\n/);
      assert.match(r.err[0]!, /^finetune schedule: /);
      assert.match(r.err[0]!, re);
    });
  }
});
