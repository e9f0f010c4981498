/**
 * The renderer's side of the training schedules: the trainer's own `planSchedule` (pure, no Node imports), so the
 * preview is exactly what will run, plus the checks and names the editor shows.
 */
import { TrainingSchedule } from '../../src-shared/contract';
import { planSchedule, SCHEDULE_DEFAULTS, type PlannedSchedule } from '../../src-shared/schedules/training';
import { ScheduleParamError } from '../../src-shared/schedules/types';
import type { ChartMarker } from './components/chart';
import { t } from './i18n/i18n.svelte';

export type ScheduleKind = TrainingSchedule['kind'];
export type SgdrSchedule = Extract<TrainingSchedule, { kind: 'sgdr' }>;
export type OneCycleSchedule = Extract<TrainingSchedule, { kind: 'onecycle' }>;
export type CyclicSchedule = Extract<TrainingSchedule, { kind: 'cyclic' }>;

/** Each kind's name in the current language (getters: read where rendered, so they follow the language). */
export const SCHEDULE_KIND_NAMES: Readonly<Record<ScheduleKind, string>> = {
  get constant() {
    return t('train:schedule.kinds.constant');
  },
  get sgdr() {
    return t('train:schedule.kinds.sgdr');
  },
  get onecycle() {
    return t('train:schedule.kinds.onecycle');
  },
  get cyclic() {
    return t('train:schedule.kinds.cyclic');
  },
};

/** When the preview cannot know the dataset size yet (no scan), it assumes this many iterations per epoch. */
export const FALLBACK_ITERS_PER_EPOCH = 10;

/** A fresh copy of a kind's defaults (fast.ai-like: `SCHEDULE_DEFAULTS` of the trainer). */
export function defaultSchedule(kind: ScheduleKind): TrainingSchedule {
  switch (kind) {
    case 'constant':
      return { kind: 'constant' };
    case 'sgdr':
      return { ...SCHEDULE_DEFAULTS.sgdr };
    case 'onecycle':
      return { ...SCHEDULE_DEFAULTS.onecycle };
    case 'cyclic':
      return { ...SCHEDULE_DEFAULTS.cyclic };
  }
}

/** The trainer's parameter names as the editor labels them (fast.ai / PyTorch spelling). */
const PARAM_NAMES: Record<string, string> = {
  cycleLen: 'cycle_len',
  cycleMult: 'cycle_mult',
  cycles: 'cycles',
  etaMin: 'eta_min',
  pctStart: 'pct_start',
  divFactor: 'div_factor',
  finalDivFactor: 'final_div_factor',
  baseFraction: 'base fraction',
  stepSizeEpochs: 'step size (epochs)',
  stepSizeUp: 'step size (iterations)',
  gamma: 'gamma',
  lr: 'learning rate',
  maxLr: 'learning rate',
  baseLr: 'lower LR (base fraction × LR)',
  totalIters: 'total iterations',
};

function friendly(message: string): string {
  return message.replace(/\b[a-zA-Z]+\b/g, (word) => PARAM_NAMES[word] ?? word);
}

export type PlanOutcome = { plan: PlannedSchedule; error: null } | { plan: null; error: string };

/**
 * The plan the trainer will run for these settings, or why there is none: `planSchedule`'s own checks
 * (`ScheduleParamError`, English from the trainer, with fast.ai's parameter names), then the contract's limits that
 * the server enforces. Our own messages come from the catalogs (this runs inside a $derived).
 */
export function previewPlan(
  lr: number,
  schedule: TrainingSchedule,
  epochs: number,
  itersPerEpoch: number,
): PlanOutcome {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0) {
    return { plan: null, error: t('train:schedule.errors.lr') };
  }
  if (schedule.kind !== 'sgdr' && (typeof epochs !== 'number' || !Number.isInteger(epochs) || epochs < 1)) {
    return { plan: null, error: t('train:schedule.errors.epochs') };
  }
  let plan: PlannedSchedule;
  try {
    plan = planSchedule(lr, schedule, epochs, itersPerEpoch);
  } catch (error) {
    if (error instanceof ScheduleParamError) return { plan: null, error: friendly(error.message) };
    return { plan: null, error: error instanceof Error ? error.message : String(error) };
  }
  const parsed = TrainingSchedule.safeParse(schedule);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((i) => `${friendly(String(i.path[i.path.length - 1] ?? 'schedule'))}: ${i.message}`)
      .join('; ');
    return { plan: null, error: message };
  }
  if (plan.epochs > 1000) {
    return { plan: null, error: t('train:schedule.errors.tooLong', { epochs: plan.epochs }) };
  }
  return { plan, error: null };
}

/** Whole epochs the trainer runs for a plan (it stops at the plan's last iteration). */
export function epochsToRun(plan: PlannedSchedule): number {
  return Math.max(1, Math.ceil(plan.epochs - 1e-9));
}

/** Cycle boundaries for a chart of the LR per iteration: the line sits after the cycle's last iteration. */
export function cycleMarkers(cycleEnds: readonly number[]): ChartMarker[] {
  return cycleEnds.map((end, k) => ({
    x: end + 1,
    label: cycleEnds.length <= 12 ? t('train:schedule.cycleMarker', { n: k + 1 }) : undefined,
    color: '#c26a1b',
  }));
}

/** At most this many points of a plan go to a chart (every restart kept sharp). */
const MAX_CHART_POINTS = 3000;

/** A plan thinned for the chart: iteration i runs at lr[i] over [i, i + 1), drawn as steps closed by a point at n. */
export function planChartData(plan: PlannedSchedule | null): {
  x: number[];
  lr: (number | null)[];
  momentum: (number | null)[];
} {
  if (!plan) return { x: [], lr: [], momentum: [] };
  const n = plan.lr.length;
  const keep = new Uint8Array(n);
  const stride = Math.max(1, Math.ceil(n / MAX_CHART_POINTS));
  for (let i = 0; i < n; i += stride) keep[i] = 1;
  keep[n - 1] = 1;
  for (const end of plan.cycleEnds) {
    keep[end] = 1;
    if (end + 1 < n) keep[end + 1] = 1;
  }
  const indices: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) indices.push(i);
  const at = (values: number[], i: number): number | null => values[Math.min(i, n - 1)] ?? null;
  const xs = [...indices, n];
  return {
    x: xs,
    lr: xs.map((i) => at(plan.lr, i)),
    momentum: plan.momentum ? xs.map((i) => at(plan.momentum ?? [], i)) : [],
  };
}

/** Epochs between two ticks of the x axis, so that there are about 16 at most. */
export function epochsPerTick(plan: PlannedSchedule): number {
  return Math.max(1, Math.ceil(Math.ceil(plan.lr.length / plan.itersPerEpoch) / 16));
}

/** The x ticks: an epoch boundary every `epochsPerTick` epochs, up to the plan's end. */
export function epochTicks(plan: PlannedSchedule | null): number[] {
  if (!plan) return [];
  const total = plan.lr.length;
  const count = Math.ceil(total / plan.itersPerEpoch);
  const every = epochsPerTick(plan);
  const ticks: number[] = [];
  for (let k = 0; k <= count; k += every) ticks.push(Math.min(k * plan.itersPerEpoch, total));
  return ticks;
}
