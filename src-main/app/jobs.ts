/**
 * The service's long jobs in worker threads: runs of the eight steps through the core's one lifecycle
 * (`RunController`, legs in workers) and estimates. Every run event goes out as the contract's `run.event`.
 */
import type { EventName, EventPayload, RecipeConfig, RecipeOverrides } from '../../src-shared/contract';
import type { homePaths } from '../core/paths';
import type { RunStore } from '../core/history/runStore';
import { scanDataset } from '../core/data/dataset';
import type { BackendChoice } from '../core/tf/backend';
import type { RecipeEstimate } from '../core/recipe/estimate';
import { RunController, type LegRunner } from '../core/run/runController';
import { startWorkerJob } from '../worker/host';

export type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

export interface JobsDeps {
  store: RunStore;
  paths: ReturnType<typeof homePaths>;
  backend: BackendChoice;
  backendInfo: () => Promise<{ name: string; note: string }>;
  emit: Emit;
}

/** Runs training at once (each leg a worker with its own model in memory). */
export const MAX_RUNNING_JOBS = 4;

export class StudioJobs {
  readonly runs: RunController;
  /** The last estimate per recipe config (JSON): `run.start` with the same config stores it with the run. */
  private readonly estimates = new Map<string, RecipeEstimate>();

  constructor(private readonly deps: JobsDeps) {
    const { paths, backend } = deps;
    const runner: LegRunner = ({ runId, runDir, leg, onEvent }) =>
      startWorkerJob(
        { kind: 'recipe', runId, runDir, featureCache: paths.featureCache, home: paths.home, leg },
        backend,
        { onEvent },
      );
    this.runs = new RunController({
      store: deps.store,
      paths,
      runner,
      emit: (e) => deps.emit('run.event', e),
    });
  }

  isRunning(runId: number): boolean {
    return this.runs.isRunning(runId);
  }

  /** Refuses a new job while MAX_RUNNING_JOBS run: a client cannot start workers without bound. */
  private checkCapacity(): void {
    const running = this.runs.runningCount;
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

  async start(config: RecipeConfig, untilStep: number | undefined, rerunOf: number | null) {
    const backend = await this.deps.backendInfo();
    // Only the classes and counts are needed here: listing, not decoding, keeps the main process free and answers
    // at once; the worker's scan decodes (and validates) every image and records the dataset it really uses.
    const ds = await scanDataset(config.dir, { seed: config.seed, validPct: config.validPct, decode: false });
    this.checkCapacity();
    const runId = this.runs.start({
      config,
      untilStep,
      rerunOf,
      backend,
      estimate: this.estimates.get(JSON.stringify(config)) ?? null,
      dataset: { classes: ds.classes, trainItems: ds.train.length },
    });
    return { runId };
  }

  async continue(runId: number, untilStep: number | undefined, overrides: RecipeOverrides | undefined) {
    await this.deps.backendInfo();
    this.checkCapacity();
    return { runId: this.runs.continue({ runId, untilStep, overrides }) };
  }

  /** Resolves when every running job has ended (after cancelling them). */
  close(): Promise<void> {
    return this.runs.close();
  }
}
