/**
 * `finetune schedule`: prints the learning-rate (and momentum) schedule the trainer would use, one value per
 * iteration, so schedules can be inspected, plotted or diffed without training.
 */
import { parseArgs } from 'node:util';
import {
  buildSchedule,
  CYCLIC_MODES,
  SCHEDULE_KINDS,
  ScheduleParamError,
  type CyclicMode,
  type Schedule,
  type ScheduleKind,
  type ScheduleSpec,
} from '../core/schedules';

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

const OPTIONS = {
  kind: { type: 'string' },
  'iters-per-epoch': { type: 'string' },
  epochs: { type: 'string' },
  lr: { type: 'string' },
  'base-lr': { type: 'string' },
  'max-lr': { type: 'string' },
  'step-size': { type: 'string' },
  'step-size-up': { type: 'string' },
  'step-size-down': { type: 'string' },
  mode: { type: 'string' },
  gamma: { type: 'string' },
  milestones: { type: 'string' },
  'cycle-len': { type: 'string' },
  'cycle-mult': { type: 'string' },
  cycles: { type: 'string' },
  'eta-min': { type: 'string' },
  'fastai-warm-start': { type: 'boolean' },
  'pct-start': { type: 'string' },
  'div-factor': { type: 'string' },
  'final-div-factor': { type: 'string' },
  anneal: { type: 'string' },
  'base-momentum': { type: 'string' },
  'max-momentum': { type: 'string' },
  'no-momentum': { type: 'boolean' },
  preset: { type: 'string' },
  'warmup-iters': { type: 'string' },
  'warmup-start-factor': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

type OptionName = keyof typeof OPTIONS;
type Values = Partial<Record<OptionName, string | boolean>>;

const COMMON: OptionName[] = [
  'kind',
  'iters-per-epoch',
  'epochs',
  'warmup-iters',
  'warmup-start-factor',
  'json',
  'help',
];
const PER_KIND: Record<ScheduleKind, OptionName[]> = {
  constant: ['lr'],
  step: ['lr', 'step-size', 'gamma'],
  multistep: ['lr', 'milestones', 'gamma'],
  exp: ['lr', 'gamma'],
  cyclic: [
    'lr',
    'base-lr',
    'max-lr',
    'step-size-up',
    'step-size-down',
    'mode',
    'gamma',
    'base-momentum',
    'max-momentum',
  ],
  sgdr: ['lr', 'max-lr', 'cycle-len', 'cycle-mult', 'cycles', 'eta-min', 'fastai-warm-start'],
  onecycle: [
    'lr',
    'max-lr',
    'pct-start',
    'div-factor',
    'final-div-factor',
    'anneal',
    'base-momentum',
    'max-momentum',
    'no-momentum',
    'preset',
  ],
};

// Library messages name spec fields; the user typed flags.
const FLAG_OF: Record<string, string> = {
  totalIters: 'total iterations (--epochs * --iters-per-epoch)',
  baseLr: '--base-lr',
  maxLr: '--max-lr',
  lr: '--lr',
  stepSizeUp: '--step-size-up',
  stepSizeDown: '--step-size-down',
  stepSize: '--step-size',
  gamma: '--gamma',
  milestones: '--milestones',
  'each milestone': 'each of --milestones',
  cycleLen: '--cycle-len',
  cycleMult: '--cycle-mult',
  cycles: '--cycles',
  etaMin: '--eta-min',
  itersPerEpoch: '--iters-per-epoch',
  pctStart: '--pct-start',
  divFactor: '--div-factor',
  finalDivFactor: '--final-div-factor',
  anneal: '--anneal',
  baseMomentum: '--base-momentum',
  maxMomentum: '--max-momentum',
  warmupIters: '--warmup-iters',
  warmupStartFactor: '--warmup-start-factor',
  mode: '--mode',
  preset: '--preset',
};

class UsageError extends Error {}

function num(v: Values, name: OptionName): number | undefined {
  const raw = v[name];
  if (raw === undefined) return undefined;
  const s = String(raw).trim();
  const x = Number(s);
  if (s === '' || !Number.isFinite(x)) throw new UsageError(`--${name} must be a number (got '${String(raw)}')`);
  return x;
}

function int(v: Values, name: OptionName): number | undefined {
  const x = num(v, name);
  if (x !== undefined && !Number.isInteger(x)) throw new UsageError(`--${name} must be an integer (got '${v[name]}')`);
  return x;
}

function oneOf<T extends string>(v: Values, name: OptionName, allowed: readonly T[]): T | undefined {
  const raw = v[name];
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got '${raw}')`);
  return raw as T;
}

/** `--lr` and `--max-lr` are the same thing where both are accepted. */
function peakLr(v: Values): number | undefined {
  const a = num(v, 'lr');
  const b = num(v, 'max-lr');
  if (a !== undefined && b !== undefined && a !== b) throw new UsageError('--lr and --max-lr disagree; give one');
  return a ?? b;
}

/** Copies defined values only, so library defaults apply to the rest. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;
}

function specFrom(kind: ScheduleKind, v: Values, itersPerEpoch: number): ScheduleSpec {
  const warmup = defined({ warmupIters: num(v, 'warmup-iters'), warmupStartFactor: num(v, 'warmup-start-factor') });
  const lr = peakLr(v) ?? 1e-3;
  switch (kind) {
    case 'constant':
      return { kind, lr, ...warmup };
    case 'step':
      return { kind, lr, stepSize: num(v, 'step-size') ?? itersPerEpoch, gamma: num(v, 'gamma') ?? 0.1, ...warmup };
    case 'multistep': {
      const raw = v.milestones;
      if (typeof raw !== 'string') throw new UsageError('--milestones is required for --kind multistep (e.g. 10,20)');
      const milestones = raw.split(',').map((s) => {
        const x = Number(s.trim());
        if (s.trim() === '' || !Number.isInteger(x) || x < 0) {
          throw new UsageError(`--milestones must be comma-separated iteration indices (got '${raw}')`);
        }
        return x;
      });
      return { kind, lr, milestones, gamma: num(v, 'gamma') ?? 0.1, ...warmup };
    }
    case 'exp':
      return { kind, lr, gamma: num(v, 'gamma') ?? 0.99, ...warmup };
    case 'cyclic':
      return defined({
        kind,
        baseLr: num(v, 'base-lr') ?? 1e-4,
        maxLr: lr,
        stepSizeUp: num(v, 'step-size-up') ?? 2 * itersPerEpoch,
        stepSizeDown: num(v, 'step-size-down'),
        mode: oneOf<CyclicMode>(v, 'mode', CYCLIC_MODES),
        gamma: num(v, 'gamma'),
        baseMomentum: num(v, 'base-momentum'),
        maxMomentum: num(v, 'max-momentum'),
        ...warmup,
      });
    case 'sgdr':
      return defined({
        kind,
        lr,
        cycleLen: num(v, 'cycle-len') ?? 1,
        cycleMult: num(v, 'cycle-mult'),
        etaMin: num(v, 'eta-min'),
        cycles: num(v, 'cycles'),
        itersPerEpoch,
        fastaiWarmStart: v['fastai-warm-start'] === true ? true : undefined,
        ...warmup,
      });
    case 'onecycle':
      return defined({
        kind,
        maxLr: lr,
        preset: oneOf(v, 'preset', ['pytorch', 'fastai'] as const),
        pctStart: num(v, 'pct-start'),
        divFactor: num(v, 'div-factor'),
        finalDivFactor: num(v, 'final-div-factor'),
        anneal: oneOf(v, 'anneal', ['cos', 'linear'] as const),
        cycleMomentum: v['no-momentum'] === true ? false : undefined,
        baseMomentum: num(v, 'base-momentum'),
        maxMomentum: num(v, 'max-momentum'),
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

/**
 * Runs `finetune schedule ARGV`. Writes results with `out` and the one-line error with `err` (default `out`).
 * Returns the exit code: 0 ok, 2 bad arguments.
 */
export async function scheduleCommand(
  argv: string[],
  out: (s: string) => void,
  err: (s: string) => void = out,
): Promise<number> {
  try {
    const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
    const v = values as Values;
    if (v.help) {
      out(HELP);
      return 0;
    }
    const kind = oneOf(v, 'kind', SCHEDULE_KINDS);
    if (kind === undefined) throw new UsageError(`--kind is required (one of ${SCHEDULE_KINDS.join(', ')})`);
    const allowed = new Set<OptionName>([...COMMON, ...PER_KIND[kind]]);
    for (const name of Object.keys(v) as OptionName[]) {
      if (!allowed.has(name)) throw new UsageError(`--${name} does not apply to --kind ${kind}`);
    }
    const itersPerEpoch = int(v, 'iters-per-epoch');
    if (itersPerEpoch === undefined) throw new UsageError('--iters-per-epoch is required');
    if (itersPerEpoch < 1) throw new UsageError(`--iters-per-epoch must be >= 1 (got ${itersPerEpoch})`);
    const epochs = num(v, 'epochs');
    let totalIters: number | undefined;
    if (epochs !== undefined) {
      if (epochs <= 0) throw new UsageError(`--epochs must be > 0 (got ${epochs})`);
      totalIters = Math.round(epochs * itersPerEpoch);
      if (totalIters < 1) {
        throw new UsageError(`--epochs ${epochs} * --iters-per-epoch ${itersPerEpoch} rounds to 0 iterations`);
      }
    } else if (!(kind === 'sgdr' && v.cycles !== undefined)) {
      throw new UsageError(`--epochs is required${kind === 'sgdr' ? ' (or --cycles)' : ''}`);
    }
    const schedule = buildSchedule(specFrom(kind, v, itersPerEpoch), totalIters);
    if (v.json) {
      // Key order as documented: lr, momentum (only where defined), cycleEnds.
      const { lr, momentum, cycleEnds } = schedule;
      out(JSON.stringify(momentum ? { lr, momentum, cycleEnds } : { lr, cycleEnds }));
    } else {
      for (const line of summary(kind, schedule, itersPerEpoch)) out(line);
    }
    return 0;
  } catch (e) {
    if (e instanceof ScheduleParamError) {
      err(`finetune schedule: ${toFlags(e.message)}`);
      return 2;
    }
    if (e instanceof UsageError || isParseArgsError(e)) {
      err(`finetune schedule: ${(e as Error).message.split('\n')[0]}`);
      return 2;
    }
    throw e;
  }
}

function isParseArgsError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** Rewrites spec field names in a library message into the flags the user typed. */
function toFlags(message: string): string {
  const names = Object.keys(FLAG_OF).sort((a, b) => b.length - a.length);
  const re = new RegExp(`(?<![\\w-])(${names.map((n) => n.replace(/ /g, '\\s')).join('|')})(?![\\w-])`, 'g');
  return message.replace(re, (m) => FLAG_OF[m] ?? m);
}
