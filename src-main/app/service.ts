/**
 * The app's request handlers and pushed events, independent of transport: the Electron main process and the
 * headless server both wrap this. Owns the run history; training and evaluation run in worker threads.
 */
import { readFileSync } from 'node:fs';
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
  type UiLanguage,
} from '../../src-shared/contract';
import { DEFAULT_HEAD_CONFIG, DEFAULT_LR_FIND } from '../../src-shared/defaults';
import { exportEnsemble, exportRun } from '../core/export/exporter';
import { useModelOnFolders } from '../core/export/predictFolder';
import { exportHistoryOf } from '../core/export/exportHistory';
import { exportDirUnder, exportGuardFor } from '../core/export/exportGuard';
import { homePaths } from '../core/paths';
import { RunStore, type RunRow } from '../core/history/runStore';
import { compareRuns, deleteRunWithFolder, untilStepOf } from '../core/history/compare';
import { recipeOfRunOrNull, rerunConfig } from '../core/history/rerun';
import { datasetThumbnails, scanDataset } from '../core/data/dataset';
import { BACKBONE_ID, backboneSummary } from '../core/model/backbone';
import { backboneNoteMessage, listBackbones } from '../core/model/backbones';
import { backendMessage, initBackend, type BackendChoice } from '../core/tf/backend';
import { datasetRecord, type DatasetRecord } from '../core/data/runDataset';
import { augmentPreview, describePreset } from '../core/data/augment';
import { startWorkerJob } from '../worker/host';
import { machineFit, machineFitMessage, type MachineFit } from '../core/machineDefaults';
import type { Message } from '../../src-shared/messages';
import { StudioJobs } from './jobs';
import { cleanerHandlers } from './cleanerHandlers';
import { sampleDataset } from '../core/data/sample';
import { listFolders } from '../core/data/folderBrowser';

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

/** How many recent dataset folders the folder browser offers. */
const RECENT_FOLDERS = 10;

/** The backend's note and the machine fit as codes, for the header (app.info). */
interface BackendMessages {
  backendMessage?: Message;
  machineFitMessage: Message;
}

export class StudioService {
  readonly paths;
  readonly store: RunStore;
  private readonly listeners = new Set<EventListener>();
  private readonly jobs: StudioJobs;
  private backend: { name: string; note: string; fit: MachineFit; messages: BackendMessages } | null = null;
  /** The wizard's language, as its window last said (`app.setLanguage`): the desktop notifications speak it. */
  uiLanguage: UiLanguage = 'en';

  constructor(private readonly options: ServiceOptions) {
    this.paths = homePaths(options.home);
    this.store = new RunStore(this.paths.history, { nativeBinding: options.sqliteBinding });
    // A damaged history was moved aside and a new one started (the Electron entry also shows it in a dialog).
    if (this.store.notice) console.warn(`warning: ${this.store.notice}`);
    this.store.markInterrupted();
    this.jobs = new StudioJobs({
      store: this.store,
      paths: this.paths,
      backend: options.backend,
      backendInfo: () => this.backendInfo(),
      emit: (event, payload) => this.emit(event, payload),
    });
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
      const note = backendMessage(b);
      const messages = { ...(note ? { backendMessage: note } : {}), machineFitMessage: machineFitMessage(b) };
      this.backend = { name: b.name, note: b.note, fit: machineFit(b), messages };
    }
    return this.backend;
  }

  private readonly handlers: Handlers = {
    ...cleanerHandlers(() => this.store),
    'app.info': async () => {
      const b = await this.backendInfo();
      return {
        version: appVersion(),
        mode: this.options.mode,
        backend: b.name,
        backendNote: b.note,
        ...b.messages,
        home: this.paths.home,
        canPickFolder: Boolean(this.options.pickFolder),
        backbone: { ...backboneSummary(), ...backboneNoteMessage(BACKBONE_ID) },
        backbones: listBackbones().map(({ id, name, format, offline, canFineTune, note }) => ({
          id,
          name,
          format,
          offline,
          canFineTune,
          note,
          ...backboneNoteMessage(id),
        })),
        // Image and batch size fitted to the backend (machineDefaults.ts).
        defaults: { ...DEFAULT_HEAD_CONFIG, size: b.fit.size, batchSize: b.fit.batchSize },
        machineFit: b.fit.reason,
        lrFindDefaults: DEFAULT_LR_FIND,
      };
    },
    'app.setLanguage': async (p) => {
      this.uiLanguage = p.language;
      return {};
    },
    'dataset.pickFolder': async () => ({ dir: this.options.pickFolder ? await this.options.pickFolder() : null }),
    'dataset.sample': async () => ({ dir: sampleDataset(this.paths.home) }),
    'dataset.browse': async (p) => {
      const recent = this.store.recentDirs(RECENT_FOLDERS);
      return { ...listFolders(p.dir, recent), recent };
    },
    'dataset.scan': async (p) => {
      const ds = await scanDataset(p.dir, {
        seed: p.seed ?? DEFAULT_HEAD_CONFIG.seed,
        validPct: p.validPct,
        cacheDir: this.paths.scanCache,
      });
      return { ...datasetRecord(ds), thumbnails: await datasetThumbnails(ds) };
    },
    'dataset.augmentPreview': async (p) => {
      await this.backendInfo();
      const ds = await scanDataset(p.dir, { seed: p.seed, cacheDir: this.paths.scanCache });
      const files = ds.classes
        .map((_, label) => ds.train.find((i) => i.label === label)?.file)
        .filter((f): f is string => !!f);
      return {
        images: await augmentPreview(files, p.size, p.preset, p.seed, p.count),
        description: describePreset(p.preset),
      };
    },
    'run.start': async ({ config, untilStep, rerunOf }) =>
      this.jobs.start(config, untilStep, this.rerunSource(rerunOf)),
    'run.continue': async ({ runId, untilStep, overrides }) => this.jobs.continue(runId, untilStep, overrides),
    'run.cancel': async ({ runId }) => ({ cancelled: this.jobs.runs.cancel(runId) }),
    'run.state': async ({ runId }) => this.jobs.runs.state(runId),
    'run.active': async () => ({ run: this.jobs.runs.active() }),
    'recipe.estimate': async (config) => this.jobs.estimate(config),
    'runs.list': async () => this.store.listRuns().map((r) => this.summary(r)),
    'runs.get': async ({ runId }) => this.detail(runId),
    'runs.compare': async ({ runIds }) => compareRuns(this.store, runIds, { runDir: (id) => this.paths.runDir(id) }),
    'runs.rerunConfig': async ({ runId }) => rerunConfig(this.store, runId),
    'runs.delete': async ({ runId }) =>
      deleteRunWithFolder(this.store, runId, this.paths.runDir(runId), this.jobs.isRunning(runId)),
    'model.export': async ({ runId, outDir, ensemble, force, formats }) => {
      const history = exportHistoryOf(this.requireRun(runId), this.store.epochs(runId));
      const guard = exportGuardFor(this.paths.home, this.paths.runs, this.store.listRuns());
      const options = { force, history, guard, formats };
      // A relative outDir goes under the exports folder: this process's working directory means nothing to the user.
      const out = exportDirUnder(this.paths.exports, outDir ?? (ensemble ? `run-${runId}-ensemble` : `run-${runId}`));
      return ensemble
        ? exportEnsemble(runId, this.paths.runDir(runId), out, options)
        : exportRun(runId, this.paths.runDir(runId), out, options);
    },
    'model.predictFolder': async (params) => useModelOnFolders(params),
    'model.interpret': async ({ runId, tta }) => {
      const { config } = this.requireRun(runId);
      const runDir = this.paths.runDir(runId);
      return startWorkerJob({ kind: 'interpret', runDir, config, tta: tta ?? false }, this.options.backend).result;
    },
    'model.evaluate': async ({ runId }) => {
      const { config } = this.requireRun(runId);
      const runDir = this.paths.runDir(runId);
      return startWorkerJob({ kind: 'evaluate', runId, runDir, config }, this.options.backend).result;
    },
  };

  private requireRun(runId: number): RunRow<HeadTrainConfig, DatasetRecord> {
    const run = this.store.getRun<HeadTrainConfig, DatasetRecord>(runId);
    if (!run) throw new Error(`No run ${runId} in the history (${this.paths.history}).`);
    return run;
  }

  /** The run a new one repeats: it must be in the history (it may have been deleted since the wizard loaded it). */
  private rerunSource(rerunOf: number | undefined): number | null {
    if (rerunOf === undefined) return null;
    this.requireRun(rerunOf);
    return rerunOf;
  }

  private summary(r: RunRow<unknown, unknown>): RunSummary {
    const metrics = this.store.epochs(r.id);
    return {
      id: r.id,
      kind: r.kind,
      untilStep: untilStepOf(r),
      createdAt: r.createdAt,
      dir: r.dir,
      status: r.status,
      backend: r.backend,
      backendNote: r.backendNote,
      classes: r.classes,
      epochs: metrics.length,
      bestValidAccuracy: metrics.length ? Math.max(...metrics.map((m) => m.validAccuracy)) : null,
      rerunOf: r.rerunOf,
    };
  }

  private detail(runId: number): RunDetail {
    const run = this.requireRun(runId);
    return {
      ...this.summary(run),
      config: run.config,
      dataset: run.dataset,
      recipe: recipeOfRunOrNull(run),
      steps: this.store.stepResults(runId),
      metrics: this.store.epochs(runId),
      error: run.error,
      timing: run.timing,
    };
  }

  /** Resolves when every running job has ended (after cancelling them). */
  async close(): Promise<void> {
    await this.jobs.close();
    this.store.close();
  }
}
