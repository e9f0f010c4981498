/**
 * The service's long jobs (head training, the eight-step recipe, LR range tests, estimates) in worker threads: it
 * starts them, records their events in the history and relays them as the contract's pushed events.
 */
import { join } from 'node:path';
import type { EventName, EventPayload, HeadTrainConfig, LrFindResult, RecipeConfig } from '../../src-shared/contract';
import type { LrFindConfig as LrFindParams } from '../../src-shared/contract';
import type { LrFindConfig } from '../core/lrfind/lrFindJob';
import type { LrRangeTestResult } from '../core/lrfind/lrRangeTest';
import { readRunMeta } from '../core/runFiles';
import type { homePaths } from '../core/paths';
import type { RunStore } from '../core/history/runStore';
import { recordEvent, recordFailure, recordResult } from '../core/history/recorder';
import { scanDataset } from '../core/data/dataset';
import type { BackendChoice } from '../core/tf/backend';
import { createPendingRun } from '../core/train/headJob';
import { recipeRunConfig } from '../core/recipe/recipeJob';
import { recordRecipeEvent } from '../core/recipe/recorder';
import type { RecipeEvent } from '../core/recipe/types';
import type { RecipeEstimate } from '../core/recipe/estimate';
import { RunClock, timingFromEstimate } from '../core/recipe/timing';
import type { MachineFit } from '../core/machineDefaults';
import { startWorkerJob, type RunningJob } from '../worker/host';

export type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

export interface JobsDeps {
  store: RunStore;
  paths: ReturnType<typeof homePaths>;
  backend: BackendChoice;
  backendInfo: () => Promise<{ name: string; note: string; fit: MachineFit }>;
  emit: Emit;
}

/** Training runs, recipe runs and LR range tests running at once (each a worker with its own model in memory). */
export const MAX_RUNNING_JOBS = 4;

export class StudioJobs {
  private readonly running = new Map<number, RunningJob<{ status: string; error: string | null }>>();
  private readonly lrFinds = new Map<number, RunningJob<unknown>>();
  private nextLrFindJob = 1;
  /** The last estimate per recipe config (JSON): `recipe.start` with the same config stores it with the run. */
  private readonly estimates = new Map<string, RecipeEstimate>();

  constructor(private readonly deps: JobsDeps) {}

  isRunning(runId: number): boolean {
    return this.running.has(runId);
  }

  cancelRun(runId: number): boolean {
    this.running.get(runId)?.cancel();
    return this.running.has(runId);
  }

  cancelLrFind(jobId: number): boolean {
    this.lrFinds.get(jobId)?.cancel();
    return this.lrFinds.has(jobId);
  }

  /** Refuses a new job while MAX_RUNNING_JOBS run: a client cannot start workers without bound. */
  private checkCapacity(): void {
    const running = this.running.size + this.lrFinds.size;
    if (running >= MAX_RUNNING_JOBS) {
      throw new Error(`Busy: ${running} jobs are running (the most at once); cancel one or wait for it to end.`);
    }
  }

  /** In a worker: measuring runs real training steps for a few seconds, the main thread keeps answering. */
  async estimate(config: RecipeConfig): Promise<RecipeEstimate> {
    const job = startWorkerJob({ kind: 'estimate', config, home: this.deps.paths.home }, this.deps.backend);
    const estimate = await job.result;
    this.estimates.set(JSON.stringify(config), estimate);
    return estimate;
  }

  /** `rerunOf`: the run whose config this one repeats (recorded with the run). */
  async startTraining(config: HeadTrainConfig, rerunOf: number | null = null) {
    const { store, paths, emit } = this.deps;
    const backend = await this.deps.backendInfo();
    this.checkCapacity();
    const runId = createPendingRun(store, { kind: 'head', backend, config }, { rerunOf });
    const job = startWorkerJob(
      {
        kind: 'trainHead',
        config,
        runDir: paths.runDir(runId),
        featureCache: paths.featureCache,
        home: paths.home,
      },
      this.deps.backend,
      {
        onEvent: (e) => {
          recordEvent(store, runId, e);
          if (e.type === 'progress') emit('train.progress', { runId, ...omitType(e) });
          else if (e.type === 'batch') emit('train.batch', { runId, ...omitType(e) });
          else if (e.type === 'epoch') emit('train.epoch', { runId, ...omitType(e) });
        },
      },
    );
    this.track(runId, job, (r) => {
      recordResult(store, runId, r);
      return r.status;
    });
    return { runId };
  }

  async startRecipe(
    mode: 'start' | 'continue',
    config: RecipeConfig | null,
    existingRun: number | null,
    untilStep: number,
    overrides: Partial<RecipeConfig>,
    rerunOf: number | null = null,
  ) {
    const { store, paths } = this.deps;
    const backend = await this.deps.backendInfo();
    let runId = existingRun;
    if (runId === null) {
      const cfg = config!;
      // Only the classes and counts are needed here: listing, not decoding, keeps the main process free and answers
      // at once; the worker's scan decodes (and validates) every image and records the dataset it really uses.
      const ds = await scanDataset(cfg.dir, { seed: cfg.seed, validPct: cfg.validPct, decode: false });
      this.checkCapacity();
      const runConfig = recipeRunConfig(cfg, ds.train.length, null);
      runId = createPendingRun(
        store,
        { kind: 'fastai8', backend, config: runConfig },
        { rerunOf, classes: ds.classes },
      );
      store.setTiming(runId, timingFromEstimate(this.estimates.get(JSON.stringify(cfg)) ?? null));
    } else {
      this.checkCapacity();
      store.setStatus(runId, 'running');
    }
    const id = runId;
    const clock = new RunClock(store.getRun(id)?.timing ?? timingFromEstimate(null), (t) => store.setTiming(id, t));
    const job = startWorkerJob(
      {
        kind: 'recipe',
        mode,
        config,
        runId: id,
        runDir: paths.runDir(id),
        featureCache: paths.featureCache,
        home: paths.home,
        untilStep,
        overrides,
      },
      this.deps.backend,
      {
        onEvent: (e) => {
          clock.onEvent(e);
          this.relayRecipeEvent(id, e);
        },
      },
    );
    this.track(
      id,
      job,
      (r) => {
        const status = r.status === 'completed' && r.steps.length < 8 ? 'paused' : r.status;
        store.finishRun(id, status, { modelDir: r.modelDir, error: r.error });
        return status;
      },
      () => clock.finish(),
    );
    return { runId: id };
  }

  /** Keep a run's job while it runs; record and announce how it ended. */
  private track<R extends { status: string; error: string | null }>(
    runId: number,
    job: RunningJob<R>,
    finish: (r: R) => EventPayload<'train.done'>['status'],
    always: () => void = () => {},
  ) {
    const { store, emit } = this.deps;
    this.running.set(runId, job);
    job.result
      .then(
        (r) => {
          always();
          emit('train.done', { runId, status: finish(r), error: r.error });
        },
        (err: unknown) => {
          always();
          emit('train.done', { runId, status: 'failed', error: recordFailure(store, runId, err) });
        },
      )
      .finally(() => this.running.delete(runId));
  }

  private relayRecipeEvent(runId: number, e: RecipeEvent) {
    const { emit } = this.deps;
    recordRecipeEvent(this.deps.store, runId, e);
    switch (e.type) {
      case 'progress':
        return emit('train.progress', { runId, ...omitType(e) });
      case 'batch':
        return emit('train.batch', { runId, ...omitType(e) });
      case 'epoch':
        return emit('train.epoch', { runId, ...omitType(e) });
      case 'step':
        return emit('recipe.step', {
          runId,
          step: e.step,
          name: e.name,
          status: e.status,
          result: e.result ?? null,
        });
      case 'lrFind':
        return emit('recipe.lrfind', { runId, step: e.step, result: lrFindCurve(e.result) });
    }
  }

  async startLrFind(p: LrFindParams) {
    const { store, paths, emit } = this.deps;
    const backend = await this.deps.backendInfo();
    this.checkCapacity();
    const jobId = this.nextLrFindJob++;
    const { runId, ...rest } = p;
    const config: LrFindConfig = { ...rest };
    if (runId !== undefined) {
      const meta = readRunMeta(paths.runDir(runId));
      config.modelDir = join(paths.runDir(runId), 'model');
      config.modelClasses = meta.classes;
      config.size = meta.size;
    }
    const job = startWorkerJob({ kind: 'lrFind', config, featureCache: paths.featureCache }, this.deps.backend, {
      onEvent: (e) => {
        if (e.type === 'step') {
          const { iteration, lr, loss, smoothedLoss } = e;
          emit('lrfind.step', {
            jobId,
            iteration,
            lr,
            loss: finiteOrNull(loss),
            smoothedLoss: finiteOrNull(smoothedLoss),
          });
        } else if (e.type === 'progress') emit('lrfind.progress', { jobId, ...omitType(e) });
        else if (e.type === 'warning') emit('lrfind.warning', { jobId, message: e.message });
      },
    });
    this.lrFinds.set(jobId, job);
    job.result
      .then(
        (r) => {
          if (r.status !== 'completed' || !r.result) {
            emit('lrfind.done', { jobId, status: 'cancelled', result: null, error: null });
            return;
          }
          const lrFindId = store.addLrFind(runId ?? null, p.stage, {
            ...r.result,
            config,
            backend: backend.name,
            classes: r.classes,
            groups: r.groups,
            warnings: r.warnings,
          });
          const result: LrFindResult = { ...lrFindCurve(r.result), lrFindId };
          emit('lrfind.done', { jobId, status: 'completed', result, error: null });
        },
        (err: unknown) => {
          const error = err instanceof Error ? err.message : String(err);
          emit('lrfind.done', { jobId, status: 'failed', result: null, error });
        },
      )
      .finally(() => this.lrFinds.delete(jobId));
    return { jobId };
  }

  /** Resolves when every running job has ended (after cancelling them). */
  async close(): Promise<void> {
    const jobs = [...this.running.values(), ...this.lrFinds.values()];
    for (const job of jobs) job.cancel();
    await Promise.allSettled(jobs.map((j) => j.result));
  }
}

/** A range test's curve as the contract sends it: JSON has no Infinity or NaN (a diverged loss becomes null). */
function lrFindCurve(r: LrRangeTestResult): Omit<LrFindResult, 'lrFindId'> {
  return {
    lr: r.lr,
    loss: r.loss.map(finiteOrNull),
    smoothedLoss: r.smoothedLoss.map(finiteOrNull),
    suggestions: r.suggestions,
    rules: r.rules,
    minIndex: r.minIndex,
    stoppedEarly: r.stoppedEarly,
    curve: r.curve,
    ...(r.validLoss ? { validLoss: r.validLoss.map(finiteOrNull) } : {}),
  };
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function omitType<T extends { type: string }>(e: T): Omit<T, 'type'> {
  const { type: _type, ...rest } = e;
  return rest;
}
