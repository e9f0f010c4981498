/** One entry point for every schedule kind, so callers can store a schedule as plain JSON. */
import {
  constantSchedule,
  exponentialSchedule,
  multiStepSchedule,
  stepSchedule,
  type ConstantParams,
  type ExponentialParams,
  type MultiStepParams,
  type StepParams,
} from './basic';
import { cyclicSchedule, type CyclicParams } from './cyclic';
import { FASTAI_ONE_CYCLE, oneCycleSchedule, type OneCycleParams } from './onecycle';
import { sgdrSchedule, type SgdrParams } from './sgdr';
import { fail, requireInt, type Schedule } from './types';
import { applyWarmup, type WarmupParams } from './warmup';

/** Optional linear warm-up in front of any kind; its iterations count towards the total. */
export type WarmupOptions = Partial<WarmupParams>;

export type ConstantSpec = { kind: 'constant' } & ConstantParams & WarmupOptions;
export type StepSpec = { kind: 'step' } & StepParams & WarmupOptions;
export type MultiStepSpec = { kind: 'multistep' } & MultiStepParams & WarmupOptions;
export type ExponentialSpec = { kind: 'exp' } & ExponentialParams & WarmupOptions;
export type CyclicSpec = { kind: 'cyclic' } & CyclicParams & WarmupOptions;
export type SgdrSpec = { kind: 'sgdr' } & SgdrParams & WarmupOptions;
/** `preset: 'fastai'` fills unset fields from fast.ai's fit_one_cycle defaults instead of PyTorch's. */
export type OneCycleSpec = { kind: 'onecycle'; preset?: 'pytorch' | 'fastai' } & OneCycleParams & WarmupOptions;

export type ScheduleSpec =
  ConstantSpec | StepSpec | MultiStepSpec | ExponentialSpec | CyclicSpec | SgdrSpec | OneCycleSpec;
export type ScheduleKind = ScheduleSpec['kind'];

/** Builds one kind from its spec and its length after the warm-up (undefined only for sgdr with `cycles`). */
type Builder<K extends ScheduleKind> = (spec: Extract<ScheduleSpec, { kind: K }>, n: number | undefined) => Schedule;

/** Every kind and how it is built, in the order the CLI lists them. Only sgdr may come without a length. */
const BUILDERS: { [K in ScheduleKind]: Builder<K> } = {
  constant: (spec, n) => constantSchedule(spec, n ?? 0),
  step: (spec, n) => stepSchedule(spec, n ?? 0),
  multistep: (spec, n) => multiStepSchedule(spec, n ?? 0),
  exp: (spec, n) => exponentialSchedule(spec, n ?? 0),
  cyclic: (spec, n) => cyclicSchedule(spec, n ?? 0),
  sgdr: (spec, n) => sgdrSchedule(spec, n),
  onecycle: (spec, n) => oneCycleSchedule(oneCycleParams(spec), n ?? 0),
};

export const SCHEDULE_KINDS = Object.keys(BUILDERS) as readonly ScheduleKind[];

/**
 * Materialises a schedule: `lr[i]` for every iteration i in [0, totalIters). `totalIters` includes any warm-up; it
 * may be omitted only for `sgdr` with `cycles`, whose length is then the warm-up plus the sum of the cycle lengths.
 */
export function buildSchedule(spec: ScheduleSpec, totalIters?: number): Schedule {
  const warmup: WarmupParams = { warmupIters: spec.warmupIters ?? 0 };
  requireInt('warmupIters', warmup.warmupIters, 0);
  if (spec.warmupStartFactor !== undefined) warmup.warmupStartFactor = spec.warmupStartFactor;
  let innerIters: number | undefined;
  if (totalIters !== undefined) {
    if (!Number.isInteger(totalIters) || totalIters < 1) {
      fail(`totalIters must be an integer >= 1 (got ${String(totalIters)})`);
    }
    if (warmup.warmupIters >= totalIters) {
      fail(`warmupIters (${warmup.warmupIters}) must be less than the total iterations (${totalIters})`);
    }
    innerIters = totalIters - warmup.warmupIters;
  } else if (spec.kind !== 'sgdr' || spec.cycles === undefined) {
    fail(`totalIters is required for kind '${spec.kind}'${spec.kind === 'sgdr' ? ' unless cycles is given' : ''}`);
  }
  return applyWarmup(buildInner(spec, innerIters), warmup);
}

function buildInner(spec: ScheduleSpec, n: number | undefined): Schedule {
  // A spec read from JSON may name any kind.
  if (!Object.hasOwn(BUILDERS, spec.kind)) return fail(`unknown schedule kind '${String(spec.kind)}'`);
  // BUILDERS pairs each kind with its own spec type, which TypeScript cannot follow through the index.
  const build = BUILDERS[spec.kind] as (spec: ScheduleSpec, n: number | undefined) => Schedule;
  return build(spec, n);
}

/** A onecycle spec's parameters: `preset: 'fastai'` fills the unset ones from fast.ai's defaults. */
function oneCycleParams(spec: OneCycleSpec): OneCycleParams {
  const { preset, ...rest } = spec;
  if (preset !== undefined && preset !== 'pytorch' && preset !== 'fastai') {
    fail(`preset must be 'pytorch' or 'fastai' (got ${String(preset)})`);
  }
  return preset === 'fastai' ? { ...FASTAI_ONE_CYCLE, ...definedOnly(rest), maxLr: rest.maxLr } : rest;
}

/** Drops keys whose value is undefined so they do not override preset values. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
