/**
 * What each training option did in the options evaluation (issue 27, `npm run eval`, docs/results.md): the option
 * alone on top of the defaults, its best epoch against the defaults' at the same seeds. The CLI's help and the
 * wizard's hints read it from here, so what they say is what the table says. The numbers are written by
 * `npm run eval -- --effects COMMIT` into measuredEffectsData.ts; a unit test recomputes them from eval/options.
 */
import { MEASURED_EFFECTS as WRITTEN } from './measuredEffectsData';

/** The evaluation's option names (scripts/lib/evalOptions.ts EVAL_VARIANTS), the defaults excepted. */
export type MeasuredOption =
  | 'mixup'
  | 'cutmix'
  | 'swa'
  | 'lrfind-valid'
  | 'progressive'
  | 'sgd'
  | 'train-bn'
  | 'valley'
  | 'no-warmup'
  | 'no-augment'
  | 'dihedral';

/**
 * hurt: lower than the defaults at every seed; helped: higher at every seed; same: equal at every seed;
 * mixed: some of each (within the noise of this many seeds).
 */
export type EffectVerdict = 'hurt' | 'helped' | 'same' | 'mixed';

export interface MeasuredEffect {
  /** The command-line flags of the run (`finetune train DIR --recipe fastai8 …`). */
  flags: string;
  /** Best epoch minus the defaults' best epoch, in percentage points, one per seed (seed order). */
  deltas: number[];
  /** Minutes of the recipe's run, mean over the seeds: what the option costs in time. */
  minutes: RunMinutes;
}

/**
 * A run's time in whole minutes: CPU (both cores; the number to compare) and wall (as it ran in the matrix, often
 * beside other runs).
 */
export interface RunMinutes {
  cpu: number;
  wall: number;
}

export interface MeasuredEffects {
  commit: string;
  /** Training images per class (10 classes), and the image size the runs trained at. */
  perClass: number;
  size: number;
  options: Partial<Record<MeasuredOption, MeasuredEffect>>;
  /**
   * At the defaults, against the kept model (the best checkpoint, what the app exports), per seed in points:
   * test-time augmentation on it, and step 8's snapshot ensemble instead of it.
   */
  onKept: { tta: number[]; ensemble: number[] };
  /** At the defaults, the eight steps' best epoch minus the head alone's, per seed, in points. */
  overHead: number[];
  /** Minutes of one run at the defaults, mean over the seeds. */
  defaultsMinutes: RunMinutes;
  /** The larger set (one seed, the check that the ranking holds): each option against its defaults, in points. */
  larger: {
    perClass: number;
    seed: number;
    overHead: number;
    onKept: { tta: number; ensemble: number | null };
    options: Partial<Record<MeasuredOption, number>>;
    /** Minutes of each run (the defaults' under `defaults`). */
    minutes: Partial<Record<MeasuredOption | 'defaults', RunMinutes>>;
  } | null;
}

/** The numbers of measuredEffectsData.ts, checked against the type here. */
export const MEASURED_EFFECTS: MeasuredEffects = WRITTEN;

export function effectVerdict(deltas: readonly number[]): EffectVerdict {
  if (deltas.length < 2) return 'mixed'; // one seed says nothing about the noise
  if (deltas.every((d) => d === 0)) return 'same';
  if (deltas.every((d) => d < 0)) return 'hurt';
  if (deltas.every((d) => d > 0)) return 'helped';
  return 'mixed';
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (n − 1), as the results table. */
const sd = (xs: readonly number[]) =>
  xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

/** `−8.8 ± 6.8` (points, signed; a true minus sign). */
export function formatDelta(deltas: readonly number[]): string {
  const m = mean(deltas);
  const sign = m > 0.05 ? '+' : m < -0.05 ? '−' : '';
  return `${sign}${Math.abs(m).toFixed(1)} ± ${sd(deltas).toFixed(1)}`;
}

/** TTA or the snapshot ensemble against the kept model, with its verdict and summary; null if not measured. */
export function measuredOnKept(
  what: 'tta' | 'ensemble',
  data: MeasuredEffects = MEASURED_EFFECTS,
): { deltas: number[]; verdict: EffectVerdict; delta: string; seeds: number } | null {
  const deltas = data.onKept[what];
  if (deltas.length === 0) return null;
  return { deltas, verdict: effectVerdict(deltas), delta: formatDelta(deltas), seeds: deltas.length };
}

/** `+1.5`, `−3.0`, `0.0` (points). */
export function signedPoints(x: number): string {
  return x > 0 ? `+${x.toFixed(1)}` : x < 0 ? `−${(-x).toFixed(1)}` : '0.0';
}

/** One option's measured effect with its verdict and summary, or null where it was not measured. */
export function measuredEffect(
  option: MeasuredOption,
  data: MeasuredEffects = MEASURED_EFFECTS,
): (MeasuredEffect & { verdict: EffectVerdict; delta: string; seeds: number }) | null {
  const e = data.options[option];
  if (!e || e.deltas.length === 0) return null;
  return { ...e, verdict: effectVerdict(e.deltas), delta: formatDelta(e.deltas), seeds: e.deltas.length };
}

/** A verdict in the help's words, against `base` (the defaults, or the kept model). */
function verdictEn(verdict: EffectVerdict, base: string): string {
  if (verdict === 'mixed') return 'within the noise';
  const how = { hurt: 'lower than', helped: 'higher than', same: 'the same as' }[verdict];
  return `${how} ${base} at every seed`;
}

/** The CLI help's lines: one per measured option, its flags, the points and the verdict. */
export function measuredEffectsHelp(data: MeasuredEffects = MEASURED_EFFECTS): string {
  const rows = (Object.keys(data.options) as MeasuredOption[]).flatMap((option) => {
    const e = measuredEffect(option, data);
    const big = data.larger?.options[option];
    const atBig = big === undefined ? '' : `; 10 × ${data.larger!.perClass}, one seed: ${signedPoints(big)}`;
    return e
      ? [
          `    ${e.flags.padEnd(26)}${e.delta} points (${e.seeds} seeds): ${verdictEn(e.verdict, 'the defaults')}${atBig}`,
        ]
      : [];
  });
  const onKept = (['tta', 'ensemble'] as const).flatMap((what) => {
    const e = measuredOnKept(what, data);
    const name = what === 'tta' ? 'TTA on the kept model' : 'the snapshot ensemble';
    return e
      ? [`    ${name.padEnd(26)}${e.delta} points (${e.seeds} seeds): ${verdictEn(e.verdict, 'the kept model')}`]
      : [];
  });
  return [
    `Measured (best epoch against the defaults; Fashion-MNIST 10 classes × ${data.perClass}, ${data.size} px, at`,
    `commit ${data.commit}; docs/results.md):`,
    ...rows,
    'At the defaults, against the kept model (the best checkpoint, which is exported):',
    ...onKept,
  ].join('\n');
}
