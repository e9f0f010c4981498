/**
 * The one run lifecycle (docs/run-lifecycle.md): start, continue and cancel a run of the eight steps, every write to
 * the run history, the status rules, and the contract's `RunEvent` for every event. The app runs legs in worker
 * threads, the CLI in its own process (`inProcessRunner`): both hand this controller a `LegRunner`.
 */
import type { RecipeConfig, RecipeOverrides, RunEvent, RunState, RunStatus } from '../../../src-shared/contract';
import type { homePaths } from '../paths';
import type { RunRow, RunStore } from '../history/runStore';
import { recordFailure, recordRunEvent } from '../history/recorder';
import { pendingDatasetRecord, type DatasetRecord } from '../data/runDataset';
import { applyOverrides, recipeRunConfig, runRecipeLeg, type RecipeLeg } from '../recipe/recipeJob';
import type { RecipeEvent, RecipeResult } from '../recipe/types';
import type { RecipeEstimate } from '../recipe/estimate';
import { RunClock, timingFromEstimate } from '../recipe/timing';
import { CheckpointWriteError } from '../recipe/checkpoint';
import { checkpointOf, CONTINUABLE, finiteOrNull, lrFindCurve, runStateOf, type LiveLeg } from './runState';

export type HomePaths = ReturnType<typeof homePaths>;

/** A leg running somewhere (a worker thread, this process): its result and a way to ask it to stop. */
export interface LegJob {
  result: Promise<RecipeResult>;
  cancel(): void;
}
export type LegRunner = (job: {
  runId: number;
  runDir: string;
  leg: RecipeLeg;
  onEvent: (e: RecipeEvent) => void;
}) => LegJob;

/** How a leg ended, as stored. */
export interface LegOutcome {
  runId: number;
  status: RunStatus;
  error: string | null;
  /** The leg's result; null when it threw. */
  result: RecipeResult | null;
}

/** A request the lifecycle refuses (unknown run, running already, completed, …): the message says why. */
export class RunRefusedError extends Error {}

export interface StartRunOptions {
  config: RecipeConfig;
  /** Stop after this step (default 8): 3 gives a head-only model. */
  untilStep?: number;
  rerunOf?: number | null;
  backend: { name: string; note: string };
  /** The run's estimate (stored with it, shown beside the actual time). */
  estimate?: RecipeEstimate | null;
  /** What a scan of the folder found: the classes and the number of training images (for the planned epochs). */
  dataset: { classes: string[]; trainItems: number };
}

export interface ContinueRunOptions {
  runId: number;
  untilStep?: number;
  overrides?: RecipeOverrides;
}

export interface RunControllerDeps {
  store: RunStore;
  paths: HomePaths;
  runner: LegRunner;
  /** Every event of every run (the service validates and relays them; the CLI prints them). */
  emit?: (e: RunEvent) => void;
}

interface LiveRun {
  leg: LiveLeg;
  job: LegJob;
  outcome: Promise<LegOutcome>;
}

export class RunController {
  private readonly live = new Map<number, LiveRun>();

  constructor(private readonly deps: RunControllerDeps) {}

  /** How many runs this process is running now (each a leg in a worker). */
  get runningCount(): number {
    return this.live.size;
  }

  isRunning(runId: number): boolean {
    return this.live.has(runId);
  }

  /** Record a new run and start its first leg; returns its id at once. */
  start(opts: StartRunOptions): number {
    const { store } = this.deps;
    const untilStep = opts.untilStep ?? 8;
    const runId = store.createRun({
      dir: opts.config.dir,
      kind: 'fastai8',
      backend: opts.backend.name,
      backendNote: opts.backend.note,
      config: recipeRunConfig(opts.config, { trainItems: opts.dataset.trainItems, untilStep }),
      dataset: pendingDatasetRecord(opts.config),
      classes: opts.dataset.classes,
      rerunOf: opts.rerunOf ?? null,
    });
    store.setTiming(runId, timingFromEstimate(opts.estimate ?? null));
    this.launch(runId, untilStep, { mode: 'start', config: opts.config, runId, untilStep });
    return runId;
  }

  /** Continue the same run from its checkpoint with the overrides for the steps not yet run. */
  continue(opts: ContinueRunOptions): number {
    const { store, paths } = this.deps;
    const { runId } = opts;
    const run = this.continuable(runId);
    const checkpoint = checkpointOf(paths.runDir(runId));
    if (!checkpoint) throw new RunRefusedError(`Run ${runId} has no checkpoint to continue from: run it again.`);
    const untilStep = opts.untilStep ?? 8;
    if (untilStep < checkpoint.step)
      throw new RunRefusedError(
        `Run ${runId} has done steps 1–${checkpoint.step - 1} already: continue to a later step.`,
      );
    const overrides = opts.overrides ?? {};
    const next = applyOverrides(checkpoint, overrides);
    store.setConfig(runId, recipeRunConfig(next.config, { trainItems: trainItemsOf(run), untilStep }));
    store.setStatus(runId, 'running');
    this.launch(runId, untilStep, { mode: 'continue', untilStep, overrides });
    return runId;
  }

  /** Ask a running run to stop at its next batch; false when it is not running here. */
  cancel(runId: number): boolean {
    const live = this.live.get(runId);
    live?.job.cancel();
    return live !== undefined;
  }

  /** Resolves when the run's leg has ended and been stored (at once, with its stored status, if none runs). */
  async finished(runId: number): Promise<LegOutcome> {
    const live = this.live.get(runId);
    if (live) return live.outcome;
    const run = this.requireRun(runId);
    return { runId, status: run.status, error: run.error, result: null };
  }

  state(runId: number): RunState {
    const run = this.requireRun(runId);
    return runStateOf(this.deps.store, run, this.deps.paths.runDir(runId), this.live.get(runId)?.leg ?? null);
  }

  /** The running run, else the newest run that is running elsewhere, paused or interrupted; null if none. */
  active(): RunState | null {
    const [running] = this.live.keys();
    if (running !== undefined) return this.state(running);
    const found = this.deps.store
      .listRuns()
      .find((r) => r.kind === 'fastai8' && ['running', 'paused', 'interrupted'].includes(r.status));
    return found ? this.state(found.id) : null;
  }

  /** Cancel every running leg and wait for them to be stored. */
  async close(): Promise<void> {
    const legs = [...this.live.values()];
    for (const l of legs) l.job.cancel();
    await Promise.allSettled(legs.map((l) => l.outcome));
  }

  private requireRun(runId: number): RunRow {
    const run = this.deps.store.getRun(runId);
    if (!run) throw new RunRefusedError(`No run ${runId} in the history (${this.deps.store.path}).`);
    return run;
  }

  private continuable(runId: number): RunRow {
    if (this.live.has(runId)) throw new RunRefusedError(`Run ${runId} is already running.`);
    // Runs of processes that are gone become 'interrupted'; one still 'running' belongs to a live process.
    this.deps.store.markInterrupted();
    const run = this.requireRun(runId);
    if (run.kind !== 'fastai8')
      throw new RunRefusedError(`Run ${runId} is a ${run.kind} run of an older version: run it again instead.`);
    if (run.status === 'running')
      throw new RunRefusedError(`Run ${runId} is running in another process: wait for it to end, or cancel it there.`);
    if (run.status === 'completed') throw new RunRefusedError(`Run ${runId} is already completed (all eight steps).`);
    if (!CONTINUABLE.has(run.status)) throw new RunRefusedError(`Run ${runId} is ${run.status}: it cannot continue.`);
    return run;
  }

  private launch(runId: number, untilStep: number, leg: RecipeLeg): void {
    const { store, paths } = this.deps;
    const clock = new RunClock(store.getRun(runId)?.timing ?? timingFromEstimate(null), (t) =>
      store.setTiming(runId, t),
    );
    const liveLeg: LiveLeg = {
      untilStep,
      currentStep: null,
      progress: null,
      lrFindPoints: [],
      warnings: [],
      warningMessages: [],
    };
    const job = this.deps.runner({
      runId,
      runDir: paths.runDir(runId),
      leg,
      onEvent: (e) => {
        recordRunEvent(store, runId, e);
        clock.onEvent(e);
        const event = this.toRunEvent(runId, liveLeg, e);
        if (event) this.deps.emit?.(event);
      },
    });
    const outcome = job.result.then(
      (result) => {
        clock.finish();
        // Stopped where it was asked to, before step 8: paused, and it continues from there.
        const status: RunStatus =
          result.status === 'completed' ? (result.nextStep <= 8 ? 'paused' : 'completed') : result.status;
        store.finishRun(runId, status, { modelDir: result.modelDir, error: result.error });
        this.storeFinalConfig(runId, untilStep);
        return { runId, status, error: result.error, result };
      },
      (err: unknown) => {
        clock.finish();
        if (err instanceof CheckpointWriteError) err.message += ` Then: finetune resume ${runId}`;
        const error = recordFailure(store, runId, err);
        return { runId, status: 'failed' as const, error, result: null };
      },
    );
    this.live.set(runId, { leg: liveLeg, job, outcome });
    void outcome.then((o) => {
      this.live.delete(runId);
      const nextStep = checkpointOf(paths.runDir(runId))?.step ?? 1;
      this.deps.emit?.({ type: 'done', runId, status: o.status, error: o.error, nextStep });
    });
  }

  /** The stored config after a leg: the LRs it settled on (the run's `lr`), the recipe config with the overrides. */
  private storeFinalConfig(runId: number, untilStep: number): void {
    const { store, paths } = this.deps;
    const run = store.getRun(runId);
    const state = checkpointOf(paths.runDir(runId));
    if (!run || !state) return;
    const lr = state.step > 8 ? state.lrAll : state.lrHead;
    store.setConfig(runId, recipeRunConfig(state.config, { trainItems: trainItemsOf(run), untilStep, lr }));
  }

  /** The core's event as the contract's, keeping the live leg's step, progress and range-test points. */
  private toRunEvent(runId: number, live: LiveLeg, e: RecipeEvent): RunEvent | null {
    switch (e.type) {
      case 'dataset':
        return null;
      case 'progress': {
        const { type: _type, ...p } = e;
        live.progress = { ...p, step: (live.currentStep as RunState['currentStep']) ?? null };
        return { type: 'progress', runId, ...live.progress };
      }
      case 'batch':
        return { ...e, runId, loss: finiteOrNull(e.loss) };
      case 'epoch':
        return { ...e, runId };
      case 'step':
        if (e.status === 'started') {
          live.currentStep = e.step;
          live.lrFindPoints = [];
        }
        return { type: 'step', runId, step: e.step, name: e.name, status: e.status, result: e.result ?? null };
      case 'lrFindPoint': {
        const point = {
          step: e.step,
          iteration: e.iteration,
          lr: e.lr,
          loss: finiteOrNull(e.loss),
          smoothedLoss: finiteOrNull(e.smoothedLoss),
        };
        live.lrFindPoints.push(point);
        return { type: 'lrfindPoint', runId, ...point };
      }
      case 'lrFind':
        live.lrFindPoints = [];
        return { type: 'lrfind', runId, result: lrFindCurve(e.step, e.result, e) };
      case 'warning':
        live.warnings.push(e.message);
        live.warningMessages.push(e.coded ?? null);
        return { type: 'warning', runId, message: e.message, ...(e.coded ? { coded: e.coded } : {}) };
    }
  }
}

/** The number of training images a run's stored dataset record counts (0 before its folder was read). */
function trainItemsOf(run: RunRow): number {
  const ds = run.dataset as Partial<DatasetRecord> | null;
  return (ds?.classes ?? []).reduce((n, c) => n + c.train, 0);
}

/**
 * Legs in this process (the CLI, tests): the recipe itself, cancelled by a flag it reads between batches, or when
 * `alsoCancel` says so (the CLI's Ctrl-C).
 */
export function inProcessRunner(
  paths: Pick<HomePaths, 'featureCache' | 'home'>,
  alsoCancel: () => boolean = () => false,
): LegRunner {
  return ({ runDir, leg, onEvent }) => {
    let cancelled = false;
    const result = runRecipeLeg(leg, {
      runDir,
      featureCache: paths.featureCache,
      home: paths.home,
      emit: onEvent,
      shouldCancel: () => cancelled || alsoCancel(),
    });
    return { result, cancel: () => void (cancelled = true) };
  };
}
