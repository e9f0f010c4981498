import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scheduleCommand } from '../../src-main/cli/scheduleCommand';
import { buildSchedule, SCHEDULE_KINDS } from '../../src-main/core/schedules';

async function run(args: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await scheduleCommand(
    args.split(/\s+/).filter(Boolean),
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out: out.join('\n'), err };
}

interface Payload {
  lr: number[];
  momentum?: number[];
  cycleEnds: number[];
}

async function json(args: string): Promise<Payload> {
  const r = await run(`${args} --json`);
  assert.equal(r.code, 0, r.err.join('\n'));
  return JSON.parse(r.out) as Payload;
}

describe('finetune schedule', () => {
  it('--help lists every kind and every parameter with defaults', async () => {
    const r = await run('--help');
    assert.equal(r.code, 0);
    for (const kind of SCHEDULE_KINDS) assert.match(r.out, new RegExp(`\\b${kind}\\b`));
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

  it('sgdr with --cycles needs no --epochs and reports cycle ends', async () => {
    const p = await json('--kind sgdr --iters-per-epoch 5 --cycles 3 --cycle-mult 2 --lr 0.1 --eta-min 0.001');
    assert.equal(p.lr.length, 35);
    assert.deepEqual(p.cycleEnds, [4, 14, 34]);
    assert.equal(p.momentum, undefined);
    const ref = buildSchedule({
      kind: 'sgdr',
      lr: 0.1,
      etaMin: 0.001,
      cycleLen: 1,
      cycleMult: 2,
      cycles: 3,
      itersPerEpoch: 5,
    });
    assert.deepEqual(p.lr, ref.lr);
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

  it('passes every option through', async () => {
    const cyc = await json(
      '--kind cyclic --iters-per-epoch 10 --epochs 4 --base-lr 0.001 --max-lr 0.006 --step-size-up 6 ' +
        '--step-size-down 4 --mode exp_range --gamma 0.99 --base-momentum 0.8 --max-momentum 0.9',
    );
    const ref = buildSchedule(
      {
        kind: 'cyclic',
        baseLr: 0.001,
        maxLr: 0.006,
        stepSizeUp: 6,
        stepSizeDown: 4,
        mode: 'exp_range',
        gamma: 0.99,
        baseMomentum: 0.8,
        maxMomentum: 0.9,
      },
      40,
    );
    assert.deepEqual(cyc, ref);

    const oc = await json(
      '--kind onecycle --iters-per-epoch 8 --epochs 5 --lr 0.02 --pct-start 0.4 --div-factor 10 ' +
        '--final-div-factor 100 --anneal linear --warmup-iters 4 --warmup-start-factor 0.5',
    );
    assert.deepEqual(
      oc,
      buildSchedule(
        {
          kind: 'onecycle',
          maxLr: 0.02,
          pctStart: 0.4,
          divFactor: 10,
          finalDivFactor: 100,
          anneal: 'linear',
          warmupIters: 4,
          warmupStartFactor: 0.5,
        },
        40,
      ),
    );

    const fastai = await json('--kind onecycle --iters-per-epoch 8 --epochs 5 --preset fastai --no-momentum');
    assert.deepEqual(
      fastai,
      buildSchedule({ kind: 'onecycle', maxLr: 1e-3, preset: 'fastai', cycleMomentum: false }, 40),
    );

    const ms = await json('--kind multistep --iters-per-epoch 10 --epochs 3 --lr 0.1 --milestones 10,20 --gamma 0.5');
    assert.deepEqual(ms.lr.slice(8, 12), [0.1, 0.1, 0.05, 0.05]);
    assert.equal(ms.lr[29], 0.025);

    const step = await json('--kind step --iters-per-epoch 4 --epochs 3');
    assert.deepEqual(
      step.lr.map((x) => Number(x.toPrecision(6))),
      [1e-3, 1e-3, 1e-3, 1e-3, 1e-4, 1e-4, 1e-4, 1e-4, 1e-5, 1e-5, 1e-5, 1e-5],
    );

    const warm = await json('--kind sgdr --iters-per-epoch 40 --cycles 1 --lr 0.1 --fastai-warm-start');
    assert.deepEqual(warm.lr.slice(0, 3), [0.001, 0.001, (0.1 * (1 + Math.cos((Math.PI * 2) / 40))) / 2]);

    const exp = await json('--kind exp --iters-per-epoch 2 --epochs 1 --lr 1 --gamma 0.5');
    assert.deepEqual(exp.lr, [1, 0.5]);
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
    ['--kind poly --iters-per-epoch 3 --epochs 1', /--kind must be one of/],
    ['--kind constant --epochs 1', /--iters-per-epoch is required/],
    ['--kind constant --iters-per-epoch 0 --epochs 1', /--iters-per-epoch must be >= 1/],
    ['--kind constant --iters-per-epoch 3', /--epochs is required/],
    ['--kind sgdr --iters-per-epoch 3', /--epochs is required \(or --cycles\)/],
    ['--kind constant --iters-per-epoch 3 --epochs 1 --lr abc', /--lr must be a number/],
    ['--kind constant --iters-per-epoch 3 --epochs 1 --gamma 0.5', /--gamma does not apply to --kind constant/],
    ['--kind constant --iters-per-epoch 3 --epochs 1 --frobnicate', /Unknown option '--frobnicate'/],
    ['--kind sgdr --iters-per-epoch 3 --cycles 2 --cycle-mult 1.5', /--cycle-mult must be an integer >= 1/],
    ['--kind cyclic --iters-per-epoch 3 --epochs 1 --mode zigzag', /--mode must be one of triangular, triangular2/],
    ['--kind onecycle --iters-per-epoch 3 --epochs 1 --anneal exp', /--anneal must be one of cos, linear/],
    ['--kind onecycle --iters-per-epoch 3 --epochs 1 --pct-start 1.5', /--pct-start must be between 0 and 1/],
    ['--kind multistep --iters-per-epoch 3 --epochs 1', /--milestones is required/],
    ['--kind multistep --iters-per-epoch 3 --epochs 1 --milestones 2,x', /--milestones must be comma-separated/],
    ['--kind cyclic --iters-per-epoch 3 --epochs 1 --lr 0.1 --max-lr 0.2', /--lr and --max-lr disagree/],
    ['--kind cyclic --iters-per-epoch 3 --epochs 1 --base-lr 0.1 --lr 0.01', /--max-lr must be >= --base-lr/],
    ['--kind exp --iters-per-epoch 3 --epochs 1 --warmup-iters 3', /--warmup-iters \(3\) must be less than/],
    ['--kind constant --iters-per-epoch 3 --epochs 0.1', /rounds to 0 iterations/],
    ['--kind sgdr --iters-per-epoch 3 --epochs 1 --cycle-len 0.1', /--cycle-len \* --iters-per-epoch must round/],
  ];
  for (const [args, re] of bad) {
    it(`exits 2 on bad arguments: ${args || '(none)'}`, async () => {
      const r = await run(args);
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.equal(r.err.length, 1);
      assert.doesNotMatch(r.err[0]!, /\n/);
      assert.match(r.err[0]!, re);
    });
  }

  it('writes errors to `out` when no error sink is given', async () => {
    const lines: string[] = [];
    assert.equal(await scheduleCommand(['--kind', 'nope'], (s) => lines.push(s)), 2);
    assert.equal(lines.length, 1);
  });
});
