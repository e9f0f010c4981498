/**
 * The app's request handlers and pushed events, independent of transport: the Electron main process and the
 * headless server both wrap this. Owns the run history; training and evaluation run in worker threads.
 */
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import {
  parseEvent,
  parseParams,
  parseResult,
  type EventName,
  type EventPayload,
  type HeadTrainConfig,
  isMethod,
  type Handlers,
  type RunDetail,
  type RunSummary,
} from '../../src-shared/contract';
import { DEFAULT_HEAD_CONFIG, DEFAULT_LR_FIND } from '../core/defaults';
import type {
  LrFindConfig as LrFindParams,
  LrFindResult,
  RecipeConfig,
  RecipeStepResult,
} from '../../src-shared/contract';
import type { LrFindConfig, LrFindEvent, LrFindJobResult } from '../core/lrfind/lrFindJob';
import { exportEnsemble, exportRun, readRunMeta } from '../core/export/exporter';
import { homePaths } from '../core/paths';
import { RunStore, type RunRow } from '../core/history/runStore';
import { recordEvent, recordFailure, recordResult } from '../core/history/recorder';
import { datasetThumbnails, scanDataset } from '../core/data/dataset';
import { backboneSummary } from '../core/model/backbone';
import { listBackbones } from '../core/model/backbones';
import { initBackend, type BackendChoice } from '../core/tf/backend';
import { datasetRecord, pendingDatasetRecord, type DatasetRecord, type JobResult } from '../core/train/headJob';
import type { EvaluationResult } from '../core/train/evaluateJob';
import type { InterpretResult } from '../core/train/interpretJob';
import { augmentPreview, describePreset } from '../core/data/augment';
import { recipeRunConfig } from '../core/recipe/recipeJob';
import { readCheckpointState } from '../core/recipe/checkpoint';
import { recordRecipeEvent } from '../core/recipe/recorder';
import type { RecipeEvent, RecipeResult } from '../core/recipe/types';
import type { RecipeEstimate } from '../core/recipe/estimate';
import { RunClock, timingFromEstimate } from '../core/recipe/timing';
import { startWorkerJob, type RunningJob } from '../worker/host';
import { machineFit, type MachineFit } from '../core/machineDefaults';

export interface ServiceOptions {
  home: string;
  backend: BackendChoice;
  mode: 'electron' | 'headless';
  /** Native folder dialog (Electron only). */
  pickFolder?: () => Promise<string | null>;
  /** better-sqlite3 binding built for this runtime (Electron). */
  sqliteBinding?: string;
}

export type EventListener = (event: EventName, payload: unknown) => void;

function appVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
}

export class StudioService {
  readonly paths;
  readonly store: RunStore;
  private readonly listeners = new Set<EventListener>();
  private readonly running = new Map<number, RunningJob<JobResult | RecipeResult>>();
  private readonly lrFinds = new Map<number, RunningJob<LrFindJobResult>>();
  private nextLrFindJob = 1;
  /** The last estimate per recipe config (JSON): `recipe.start` with the same config stores it with the run. */
  private readonly estimates = new Map<string, RecipeEstimate>();
  private backend: { name: string; note: string; fit: MachineFit } | null = null;

  constructor(private readonly options: ServiceOptions) {
    this.paths = homePaths(options.home);
    this.store = new RunStore(this.paths.history, { nativeBinding: options.sqliteBinding });
    this.store.markInterrupted();
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit<E extends EventName>(event: E, payload: EventPayload<E>) {
    const checked = parseEvent(event, payload);
    for (const l of this.listeners) l(event, checked);
  }

  /** Validate, dispatch, validate the result: the boundary every transport goes through. */
  async handle(method: string, rawParams: unknown): Promise<unknown> {
    if (!isMethod(method)) throw new Error(`Unknown method "${method}"`);
    const params = parseParams(method, rawParams);
    const handler = this.handlers[method] as (p: unknown) => Promise<unknown>;
    return parseResult(method, await handler(params));
  }

  private async backendInfo() {
    if (!this.backend) {
      const b = await initBackend(this.options.backend);
      this.backend = { name: b.name, note: b.note, fit: machineFit(b) };
    }
    return this.backend;
  }

  private readonly handlers: Handlers = {
    'app.info': async () => {
      const b = await this.backendInfo();
      return {
        version: appVersion(),
        mode: this.options.mode,
        backend: b.name,
        backendNote: b.note,
        home: this.paths.home,
        canPickFolder: Boolean(this.options.pickFolder),
        backbone: backboneSummary(),
        backbones: listBackbones().map(({ id, name, format, offline, canFineTune, note }) => ({
          id,
          name,
          format,
          offline,
          canFineTune,
          note,
        })),
        // Image and batch size fitted to the backend (machineDefaults.ts).
        defaults: { ...DEFAULT_HEAD_CONFIG, size: b.fit.size, batchSize: b.fit.batchSize },
        machineFit: b.fit.reason,
        lrFindDefaults: DEFAULT_LR_FIND,
      };
    },
    'dataset.pickFolder': async () => ({ dir: this.options.pickFolder ? await this.options.pickFolder() : null }),
    'dataset.scan': async (p: { dir: string; seed?: number; validPct?: number }) => {
      const ds = await scanDataset(p.dir, { seed: p.seed ?? DEFAULT_HEAD_CONFIG.seed, validPct: p.validPct });
      return { ...datasetRecord(ds), thumbnails: await datasetThumbnails(ds) };
    },
    'train.start': async (config: HeadTrainConfig) => this.startTraining(config),
    'train.cancel': async ({ runId }: { runId: number }) => {
      const job = this.running.get(runId);
      job?.cancel();
      return { cancelled: Boolean(job) };
    },
    'lrfind.start': async (p: LrFindParams) => this.startLrFind(p),
    'lrfind.cancel': async ({ jobId }: { jobId: number }) => {
      const job = this.lrFinds.get(jobId);
      job?.cancel();
      return { cancelled: Boolean(job) };
    },
    'runs.list': async () => this.store.listRuns().map((r) => this.summary(r)),
    'runs.get': async ({ runId }: { runId: number }) => this.detail(runId),
    'model.export': async ({ runId, outDir, ensemble }: { runId: number; outDir?: string; ensemble?: boolean }) => {
      this.requireRun(runId);
      const out = outDir ?? join(this.paths.exports, ensemble ? `run-${runId}-ensemble` : `run-${runId}`);
      return ensemble
        ? exportEnsemble(runId, this.paths.runDir(runId), out)
        : exportRun(runId, this.paths.runDir(runId), out);
    },
    'model.interpret': async ({ runId, tta }: { runId: number; tta?: boolean }) => {
      const run = this.requireRun(runId);
      const job = startWorkerJob<InterpretResult>(
        { kind: 'interpret', runDir: this.paths.runDir(runId), config: run.config, tta: tta ?? false },
        this.options.backend,
        {},
      );
      return job.result;
    },
    'dataset.augmentPreview': async (p: {
      dir: string;
      preset: 'none' | 'side-on' | 'top-down';
      size: number;
      seed: number;
      count: number;
    }) => {
      await this.backendInfo();
      const ds = await scanDataset(p.dir, { seed: p.seed });
      const files = ds.classes
        .map((_, label) => ds.train.find((i) => i.label === label)?.file)
        .filter((f): f is string => !!f);
      return {
        images: await augmentPreview(files, p.size, p.preset, p.seed, p.count),
        description: describePreset(p.preset),
      };
    },
    'recipe.start': async ({ config, untilStep }: { config: RecipeConfig; untilStep?: number }) =>
      this.startRecipe('start', config, null, untilStep ?? 8, {}),
    'recipe.continue': async ({
      runId,
      untilStep,
      overrides,
    }: {
      runId: number;
      untilStep?: number;
      overrides?: Partial<RecipeConfig>;
    }) => {
      if (this.running.has(runId)) throw new Error(`Run ${runId} is already running.`);
      const run = this.requireRun(runId);
      if (run.kind !== 'fastai8') throw new Error(`Run ${runId} is not an eight-step recipe run.`);
      return this.startRecipe('continue', null, runId, untilStep ?? 8, overrides ?? {});
    },
    'recipe.estimate': async (config: RecipeConfig) => {
      // In a worker: measuring runs real training steps for a few seconds, the main thread keeps answering.
      const job = startWorkerJob<RecipeEstimate>(
        { kind: 'estimate', config, home: this.paths.home },
        this.options.backend,
        {},
      );
      const estimate = await job.result;
      this.estimates.set(JSON.stringify(config), estimate);
      return estimate;
    },
    'recipe.state': async ({ runId }: { runId: number }) => {
      this.requireRun(runId);
      const state = readCheckpointState(this.paths.runDir(runId));
      const ensemblePath = join(this.paths.runDir(runId), 'ensemble.json');
      const ensemble = existsSync(ensemblePath)
        ? (JSON.parse(readFileSync(ensemblePath, 'utf8')) as { k: number; validAccuracy: number })
        : null;
      return {
        runId,
        config: state.config,
        nextStep: state.step,
        steps: state.results as RecipeStepResult[],
        ensemble: ensemble && { k: ensemble.k, validAccuracy: ensemble.validAccuracy },
        best: state.best,
      };
    },
    'model.evaluate': async ({ runId }: { runId: number }) => {
      const run = this.requireRun(runId);
      const job = startWorkerJob<EvaluationResult>(
        { kind: 'evaluate', runId, runDir: this.paths.runDir(runId), config: run.config },
        this.options.backend,
        {},
      );
      return job.result;
    },
  };

  private requireRun(runId: number): RunRow<HeadTrainConfig, DatasetRecord> {
    const run = this.store.getRun<HeadTrainConfig, DatasetRecord>(runId);
    if (!run) throw new Error(`No run ${runId} in the history (${this.paths.history}).`);
    return run;
  }

  private async startTraining(config: HeadTrainConfig) {
    const backend = await this.backendInfo();
    const runId = this.store.createRun({
      dir: config.dir,
      kind: 'head',
      backend: backend.name,
      backendNote: backend.note,
      config,
      dataset: pendingDatasetRecord(config),
      classes: [],
    });
    const job = startWorkerJob<JobResult>(
      {
        kind: 'trainHead',
        config,
        runDir: this.paths.runDir(runId),
        featureCache: this.paths.featureCache,
        home: this.paths.home,
      },
      this.options.backend,
      {
        onEvent: (e) => {
          recordEvent(this.store, runId, e);
          if (e.type === 'progress') this.emit('train.progress', { runId, ...omitType(e) });
          else if (e.type === 'batch') this.emit('train.batch', { runId, ...omitType(e) });
          else if (e.type === 'epoch') this.emit('train.epoch', { runId, ...omitType(e) });
        },
      },
    );
    this.running.set(runId, job);
    job.result
      .then(
        (r) => {
          recordResult(this.store, runId, r);
          this.emit('train.done', { runId, status: r.status, error: r.error });
        },
        (err: unknown) => {
          const message = recordFailure(this.store, runId, err);
          this.emit('train.done', { runId, status: 'failed', error: message });
        },
      )
      .finally(() => this.running.delete(runId));
    return { runId };
  }

  private async startRecipe(
    mode: 'start' | 'continue',
    config: RecipeConfig | null,
    existingRun: number | null,
    untilStep: number,
    overrides: Partial<RecipeConfig>,
  ) {
    const backend = await this.backendInfo();
    let runId = existingRun;
    if (runId === null) {
      const cfg = config!;
      // Only the classes and counts are needed here: listing, not decoding, keeps the main process free and answers
      // at once; the worker's scan decodes (and validates) every image and records the dataset it really uses.
      const ds = await scanDataset(cfg.dir, { seed: cfg.seed, validPct: cfg.validPct, decode: false });
      const runConfig = recipeRunConfig(cfg, ds.train.length, null);
      runId = this.store.createRun({
        dir: cfg.dir,
        kind: 'fastai8',
        backend: backend.name,
        backendNote: backend.note,
        config: runConfig,
        dataset: pendingDatasetRecord(runConfig),
        classes: ds.classes,
      });
      this.store.setTiming(runId, timingFromEstimate(this.estimates.get(JSON.stringify(cfg)) ?? null));
    } else {
      this.store.setStatus(runId, 'running');
    }
    const id = runId;
    const clock = new RunClock(this.store.getRun(id)?.timing ?? timingFromEstimate(null), (t) =>
      this.store.setTiming(id, t),
    );
    const job = startWorkerJob<RecipeResult, RecipeEvent>(
      {
        kind: 'recipe',
        mode,
        config,
        runId: id,
        runDir: this.paths.runDir(id),
        featureCache: this.paths.featureCache,
        home: this.paths.home,
        untilStep,
        overrides,
      },
      this.options.backend,
      {
        onEvent: (e) => {
          clock.onEvent(e);
          this.relayRecipeEvent(id, e);
        },
      },
    );
    this.running.set(id, job);
    job.result
      .then(
        (r) => {
          clock.finish();
          const status = r.status === 'completed' && r.steps.length < 8 ? 'paused' : r.status;
          this.store.finishRun(id, status, { modelDir: r.modelDir, error: r.error });
          this.emit('train.done', { runId: id, status, error: r.error });
        },
        (err: unknown) => {
          clock.finish();
          const message = recordFailure(this.store, id, err);
          this.emit('train.done', { runId: id, status: 'failed', error: message });
        },
      )
      .finally(() => this.running.delete(id));
    return { runId: id };
  }

  private relayRecipeEvent(runId: number, e: RecipeEvent) {
    recordRecipeEvent(this.store, runId, e);
    switch (e.type) {
      case 'progress':
        this.emit('train.progress', { runId, ...omitType(e) });
        break;
      case 'batch':
        this.emit('train.batch', { runId, ...omitType(e) });
        break;
      case 'epoch':
        this.emit('train.epoch', { runId, ...omitType(e) });
        break;
      case 'step':
        this.emit('recipe.step', {
          runId,
          step: e.step,
          name: e.name,
          status: e.status,
          result: (e.result as RecipeStepResult | undefined) ?? null,
        });
        break;
      case 'lrFind':
        this.emit('recipe.lrfind', {
          runId,
          step: e.step,
          result: {
            lr: e.result.lr,
            loss: e.result.loss.map(finiteOrNull),
            smoothedLoss: e.result.smoothedLoss.map(finiteOrNull),
            suggestions: e.result.suggestions,
            rules: e.result.rules,
            minIndex: e.result.minIndex,
            stoppedEarly: e.result.stoppedEarly,
          },
        });
        break;
    }
  }

  private async startLrFind(p: LrFindParams) {
    const backend = await this.backendInfo();
    const jobId = this.nextLrFindJob++;
    const { runId, ...rest } = p;
    const config: LrFindConfig = { ...rest };
    if (runId !== undefined) {
      this.requireRun(runId);
      const meta = readRunMeta(this.paths.runDir(runId));
      config.modelDir = join(this.paths.runDir(runId), 'model');
      config.modelClasses = meta.classes;
      config.size = meta.size;
    }
    const job = startWorkerJob<LrFindJobResult, LrFindEvent>(
      { kind: 'lrFind', config, featureCache: this.paths.featureCache },
      this.options.backend,
      {
        onEvent: (e) => {
          if (e.type === 'step') {
            this.emit('lrfind.step', {
              jobId,
              iteration: e.iteration,
              lr: e.lr,
              loss: finiteOrNull(e.loss),
              smoothedLoss: finiteOrNull(e.smoothedLoss),
            });
          } else if (e.type === 'progress') {
            this.emit('lrfind.progress', {
              jobId,
              phase: e.phase,
              label: e.label,
              done: e.done,
              total: e.total,
              etaSeconds: e.etaSeconds,
            });
          } else if (e.type === 'warning') {
            this.emit('lrfind.warning', { jobId, message: e.message });
          }
        },
      },
    );
    this.lrFinds.set(jobId, job);
    job.result
      .then(
        (r) => {
          if (r.status !== 'completed' || !r.result) {
            this.emit('lrfind.done', { jobId, status: 'cancelled', result: null, error: null });
            return;
          }
          const lrFindId = this.store.addLrFind(runId ?? null, p.stage, {
            ...r.result,
            config,
            backend: backend.name,
            classes: r.classes,
            groups: r.groups,
            warnings: r.warnings,
          });
          const result: LrFindResult = {
            lr: r.result.lr,
            loss: r.result.loss.map(finiteOrNull),
            smoothedLoss: r.result.smoothedLoss.map(finiteOrNull),
            suggestions: r.result.suggestions,
            rules: r.result.rules,
            minIndex: r.result.minIndex,
            stoppedEarly: r.result.stoppedEarly,
            lrFindId,
          };
          this.emit('lrfind.done', { jobId, status: 'completed', result, error: null });
        },
        (err: unknown) => {
          const error = err instanceof Error ? err.message : String(err);
          this.emit('lrfind.done', { jobId, status: 'failed', result: null, error });
        },
      )
      .finally(() => this.lrFinds.delete(jobId));
    return { jobId };
  }

  private summary(r: RunRow<unknown, unknown>): RunSummary {
    const metrics = this.store.epochs(r.id);
    return {
      id: r.id,
      kind: r.kind,
      createdAt: r.createdAt,
      dir: r.dir,
      status: r.status,
      backend: r.backend,
      backendNote: r.backendNote,
      classes: r.classes,
      epochs: metrics.length,
      bestValidAccuracy: metrics.length ? Math.max(...metrics.map((m) => m.validAccuracy)) : null,
    };
  }

  private detail(runId: number): RunDetail {
    const run = this.requireRun(runId);
    return {
      ...this.summary(run),
      config: run.config,
      dataset: run.dataset,
      metrics: this.store.epochs(runId),
      error: run.error,
      timing: run.timing,
    };
  }

  /** Resolves when every running job has ended (after cancelling them). */
  async close(): Promise<void> {
    const jobs = [...this.running.values(), ...this.lrFinds.values()];
    for (const job of jobs) job.cancel();
    await Promise.allSettled(jobs.map((j) => j.result));
    this.store.close();
  }
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function omitType<T extends { type: string }>(e: T): Omit<T, 'type'> {
  const { type: _type, ...rest } = e;
  return rest;
}
