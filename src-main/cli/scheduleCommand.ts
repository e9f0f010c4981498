/**
 * `finetune schedule`: prints the learning-rate (and momentum) schedule the trainer would use, one value per
 * iteration, so schedules can be inspected, plotted or diffed without training.
 */
import { z } from 'zod';
import {
  buildSchedule,
  CYCLIC_MODES,
  SCHEDULE_KINDS,
  ScheduleParamError,
  type CyclicMode,
  type Schedule,
  type ScheduleKind,
  type ScheduleSpec,
} from '../../src-shared/schedules';
import { NUMBER, num, oneOf, parseOptions, stringOptions, UsageError, type Io } from './args';

const HELP = `Usage: finetune schedule --kind KIND --iters-per-epoch N --epochs E [options] [--json]

Prints the LR for every iteration (mini-batch) of the schedule. Total iterations = round(epochs * iters-per-epoch)
(fractional epochs allowed); any warm-up counts towards it.

Kinds and their options (default in brackets):
  constant    --lr [1e-3]
  step        --lr [1e-3] --step-size ITERS [iters-per-epoch] --gamma [0.1]
                LR *= gamma every step-size iterations (PyTorch StepLR)
  multistep   --lr [1e-3] --milestones I1,I2,... (iterations, required) --gamma [0.1]   (PyTorch MultiStepLR)
  exp         --lr [1e-3] --gamma [0.99]   LR *= gamma every iteration (PyTorch ExponentialLR)
  cyclic      --base-lr [1e-4] --max-lr (or --lr) [1e-3] --step-size-up ITERS [2 * iters-per-epoch]
              --step-size-down ITERS [= step-size-up] --mode triangular|triangular2|exp_range [triangular]
              --gamma [1] (exp_range only) --base-momentum, --max-momentum [none: momentum not cycled]
                (PyTorch CyclicLR)
  sgdr        --lr (or --max-lr) [1e-3] --cycle-len EPOCHS [1] --cycle-mult INT [1] --eta-min [0]
              --cycles N [as many as fit] --fastai-warm-start [off]
                cosine annealing with warm restarts (PyTorch CosineAnnealingWarmRestarts); with --cycles,
                --epochs may be omitted (total = sum of the cycle lengths)
  onecycle    --lr (or --max-lr) [1e-3] --pct-start [0.3] --div-factor [25] --final-div-factor [1e4]
              --anneal cos|linear [cos] --base-momentum [0.85] --max-momentum [0.95] --no-momentum
              --preset pytorch|fastai [pytorch]   (PyTorch OneCycleLR; fastai: pct-start 0.25,
                final-div-factor 4000 so the final LR is lr/1e5, momentum 0.95 -> 0.85 -> 0.95)

Common options:
  --kind KIND                 one of ${SCHEDULE_KINDS.join(', ')} (required)
  --iters-per-epoch N         mini-batches per epoch (required)
  --epochs E                  epochs to train, may be fractional (required except sgdr with --cycles)
  --warmup-iters N [0]        linear warm-up in front of the schedule
  --warmup-start-factor F [0.1]  the warm-up starts at F times the schedule's first LR
  --json                      print {"lr":[...],"momentum":[...],"cycleEnds":[...]} instead of a summary
  --help                      this text

Exit codes: 0 ok, 2 bad arguments.`;

/** The flags every kind takes. */
const COMMON = ['kind', 'iters-per-epoch', 'epochs', 'warmup-iters', 'warmup-start-factor', 'json', 'help'] as const;

const MOMENTUM = ['base-momentum', 'max-momentum'] as const;

/** The flags each kind takes besides those. */
const PER_KIND = {
  constant: ['lr'],
  step: ['lr', 'step-size', 'gamma'],
  multistep: ['lr', 'milestones', 'gamma'],
  exp: ['lr', 'gamma'],
  cyclic: ['lr', 'base-lr', 'max-lr', 'step-size-up', 'step-size-down', 'mode', 'gamma', ...MOMENTUM],
  sgdr: ['lr', 'max-lr', 'cycle-len', 'cycle-mult', 'cycles', 'eta-min', 'fastai-warm-start'],
  onecycle: [
    'lr',
    'max-lr',
    'pct-start',
    'div-factor',
    'final-div-factor',
    'anneal',
    'preset',
    ...MOMENTUM,
    'no-momentum',
  ],
} as const satisfies Record<ScheduleKind, readonly string[]>;

const SWITCHES = {
  'fastai-warm-start': { type: 'boolean' },
  'no-momentum': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

type OptionName = (typeof COMMON)[number] | (typeof PER_KIND)[ScheduleKind][number];
/** The flags that take a value. */
type StringOption = Exclude<OptionName, keyof typeof SWITCHES>;
type Values = { [K in StringOption]?: string } & { [K in keyof typeof SWITCHES]?: boolean };

const VALUE_FLAGS = [...new Set<OptionName>([...COMMON, ...Object.values(PER_KIND).flat()])].filter(
  (f): f is StringOption => !(f in SWITCHES),
);
const OPTIONS = { ...stringOptions(...VALUE_FLAGS), ...SWITCHES };

// Library messages name spec fields (stepSizeUp); the user typed flags (--step-size-up).
const FLAG_OF: Record<string, string> = {
  totalIters: 'total iterations (--epochs * --iters-per-epoch)',
  'each milestone': 'each of --milestones',
  ...Object.fromEntries(
    VALUE_FLAGS.filter((f) => f !== 'kind' && f !== 'epochs').map((f) => [
      f.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()),
      `--${f}`,
    ]),
  ),
};

/** The value of `--name` as a number, if given. */
const numberOf = (v: Values, name: StringOption, schema: z.ZodType<number> = NUMBER) => num(v[name], name, schema);
/** The value of `--name` as one of `allowed`, if given. */
const choiceOf = <T extends string>(v: Values, name: StringOption, allowed: readonly T[]) =>
  oneOf(v[name], name, allowed);

/** `--lr` and `--max-lr` are the same thing where both are accepted. */
function peakLr(v: Values): number | undefined {
  const a = numberOf(v, 'lr');
  const b = numberOf(v, 'max-lr');
  if (a !== undefined && b !== undefined && a !== b) throw new UsageError('--lr and --max-lr disagree; give one');
  return a ?? b;
}

/** Copies defined values only, so library defaults apply to the rest. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;
}

function specFrom(kind: ScheduleKind, v: Values, itersPerEpoch: number): ScheduleSpec {
  const warmup = defined({
    warmupIters: numberOf(v, 'warmup-iters'),
    warmupStartFactor: numberOf(v, 'warmup-start-factor'),
  });
  const lr = peakLr(v) ?? 1e-3;
  switch (kind) {
    case 'constant':
      return { kind, lr, ...warmup };
    case 'step':
      return {
        kind,
        lr,
        stepSize: numberOf(v, 'step-size') ?? itersPerEpoch,
        gamma: numberOf(v, 'gamma') ?? 0.1,
        ...warmup,
      };
    case 'multistep': {
      const raw = v.milestones;
      if (typeof raw !== 'string') throw new UsageError('--milestones is required for --kind multistep (e.g. 10,20)');
      const milestones = raw.split(',').map((s) => {
        // Digits only: Number() would also take 0x10.
        const x = /^\d+$/.test(s.trim()) ? Number(s.trim()) : NaN;
        if (!Number.isSafeInteger(x)) {
          throw new UsageError(`--milestones must be comma-separated iteration indices, got "${raw}"`);
        }
        return x;
      });
      return { kind, lr, milestones, gamma: numberOf(v, 'gamma') ?? 0.1, ...warmup };
    }
    case 'exp':
      return { kind, lr, gamma: numberOf(v, 'gamma') ?? 0.99, ...warmup };
    case 'cyclic':
      return defined({
        kind,
        baseLr: numberOf(v, 'base-lr') ?? 1e-4,
        maxLr: lr,
        stepSizeUp: numberOf(v, 'step-size-up') ?? 2 * itersPerEpoch,
        stepSizeDown: numberOf(v, 'step-size-down'),
        mode: choiceOf<CyclicMode>(v, 'mode', CYCLIC_MODES),
        gamma: numberOf(v, 'gamma'),
        baseMomentum: numberOf(v, 'base-momentum'),
        maxMomentum: numberOf(v, 'max-momentum'),
        ...warmup,
      });
    case 'sgdr':
      return defined({
        kind,
        lr,
        cycleLen: numberOf(v, 'cycle-len') ?? 1,
        cycleMult: numberOf(v, 'cycle-mult'),
        etaMin: numberOf(v, 'eta-min'),
        cycles: numberOf(v, 'cycles'),
        itersPerEpoch,
        fastaiWarmStart: v['fastai-warm-start'] === true ? true : undefined,
        ...warmup,
      });
    case 'onecycle':
      return defined({
        kind,
        maxLr: lr,
        preset: choiceOf(v, 'preset', ['pytorch', 'fastai'] as const),
        pctStart: numberOf(v, 'pct-start'),
        divFactor: numberOf(v, 'div-factor'),
        finalDivFactor: numberOf(v, 'final-div-factor'),
        anneal: choiceOf(v, 'anneal', ['cos', 'linear'] as const),
        cycleMomentum: v['no-momentum'] === true ? false : undefined,
        baseMomentum: numberOf(v, 'base-momentum'),
        maxMomentum: numberOf(v, 'max-momentum'),
        ...warmup,
      });
  }
}

/** Four significant digits, exponent form for small values, no trailing zeros. */
function g(x: number): string {
  if (x === 0) return '0';
  if (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5) return x.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(x.toPrecision(4)));
}

function summary(kind: ScheduleKind, s: Schedule, itersPerEpoch: number): string[] {
  const lo = Math.min(...s.lr);
  const hi = Math.max(...s.lr);
  const n = s.lr.length;
  const lines = [
    `${kind}: ${n} iterations (${itersPerEpoch} per epoch, ${g(n / itersPerEpoch)} epochs)`,
    `lr: min ${g(lo)}, max ${g(hi)}, first ${g(s.lr[0]!)}, last ${g(s.lr[n - 1]!)}`,
  ];
  if (s.momentum) {
    lines.push(`momentum: min ${g(Math.min(...s.momentum))}, max ${g(Math.max(...s.momentum))}`);
  }
  lines.push(
    s.cycleEnds.length === 0
      ? 'cycle ends: none'
      : `cycle ends (iteration): ${s.cycleEnds.join(', ')}` +
          ` (end of epoch ${s.cycleEnds.map((e) => g((e + 1) / itersPerEpoch)).join(', ')})`,
  );
  return lines;
}

/** Runs `finetune schedule ARGV`: the schedule on `io.out`; bad arguments throw a UsageError (exit 2). */
export async function scheduleCommand(argv: string[], io: Io): Promise<void> {
  const v: Values = parseOptions(argv, OPTIONS, false).values;
  if (v.help) {
    io.out(HELP);
    return;
  }
  const kind = choiceOf(v, 'kind', SCHEDULE_KINDS);
  if (kind === undefined) throw new UsageError(`--kind is required (one of ${SCHEDULE_KINDS.join(', ')})`);
  const allowed = new Set<OptionName>([...COMMON, ...PER_KIND[kind]]);
  for (const name of Object.keys(v) as OptionName[]) {
    if (!allowed.has(name)) throw new UsageError(`--${name} does not apply to --kind ${kind}`);
  }
  const itersPerEpoch = numberOf(v, 'iters-per-epoch', z.number().int().min(1));
  if (itersPerEpoch === undefined) throw new UsageError('--iters-per-epoch is required');
  const epochs = numberOf(v, 'epochs', z.number().positive());
  let totalIters: number | undefined;
  if (epochs !== undefined) {
    totalIters = Math.round(epochs * itersPerEpoch);
    if (totalIters < 1) {
      throw new UsageError(`--epochs ${epochs} * --iters-per-epoch ${itersPerEpoch} rounds to 0 iterations`);
    }
  } else if (!(kind === 'sgdr' && v.cycles !== undefined)) {
    throw new UsageError(`--epochs is required${kind === 'sgdr' ? ' (or --cycles)' : ''}`);
  }
  const schedule = build(specFrom(kind, v, itersPerEpoch), totalIters);
  if (v.json) {
    // Key order as documented: lr, momentum (only where defined), cycleEnds.
    const { lr, momentum, cycleEnds } = schedule;
    io.out(JSON.stringify(momentum ? { lr, momentum, cycleEnds } : { lr, cycleEnds }));
  } else {
    for (const line of summary(kind, schedule, itersPerEpoch)) io.out(line);
  }
}

/** `buildSchedule`, its parameter errors as usage errors that name the flags. */
function build(spec: ScheduleSpec, totalIters: number | undefined): Schedule {
  try {
    return buildSchedule(spec, totalIters);
  } catch (e) {
    if (e instanceof ScheduleParamError) throw new UsageError(toFlags(e.message));
    throw e;
  }
}

/** Rewrites spec field names in a library message into the flags the user typed. */
function toFlags(message: string): string {
  const names = Object.keys(FLAG_OF).sort((a, b) => b.length - a.length);
  const re = new RegExp(`(?<![\\w-])(${names.map((n) => n.replace(/ /g, '\\s')).join('|')})(?![\\w-])`, 'g');
  return message.replace(re, (m) => FLAG_OF[m] ?? m);
}
