import type {
  EpochMetrics,
  EventPayload,
  Interpretation,
  RecipeConfig,
  RecipeEstimate,
  RecipeStepResult,
  RunStatus,
} from '../../../src-shared/contract';
import { DEFAULT_RECIPE_CONFIG } from '../../../src-shared/recipe/config';
import { errorMessage, getStudioApi, onConnectionChange } from '../api';
import { t } from '../i18n/i18n.svelte';
import { app } from './app.svelte';
import { optionOverrides } from './recipeOptions';
import { withRerun } from './rerunFrom.svelte';

export type RecipeSettings = Omit<RecipeConfig, 'dir'>;
export type RecipeState = 'idle' | 'starting' | 'cancelling' | RunStatus;
export type RecipeLrFind = EventPayload<'recipe.lrfind'>['result'];
export type RecipeProgress = EventPayload<'train.progress'>;

/** An epoch of a training step, placed on the step's x axis (batches seen so far in that step). */
export type RecipeEpoch = EpochMetrics & { x: number };

/** The batches and epochs of one training step (3, 4 or 8) of the recipe. */
export interface StepLive {
  loss: number[];
  lr: number[];
  epochs: RecipeEpoch[];
}

const STEP_OF_NAME: Record<string, number> = { 'step3-head': 3, 'step4-augment': 4, 'step8-all': 8 };

/** fast.ai's defaults, with the LR finder sweeps kept short enough for the wizard. */
function defaults(): RecipeSettings {
  return { ...DEFAULT_RECIPE_CONFIG, lrFind: { ...DEFAULT_RECIPE_CONFIG.lrFind } };
}

/**
 * The eight-step recipe run of this window: its settings (fast.ai's defaults, editable on the step pages), the
 * run id, the step results and the live events. Survives page switches; after a reload it rejoins the newest paused
 * recipe run.
 */
class RecipeSession {
  runId = $state<number | null>(null);
  state = $state<RecipeState>('idle');
  error = $state<string | null>(null);
  /** The settings of the steps not yet run (sent as `overrides` on continue). */
  settings = $state<RecipeSettings>(defaults());
  /** The config the server holds for the run (after `recipe.state`). */
  runConfig = $state.raw<RecipeConfig | null>(null);
  steps = $state.raw<RecipeStepResult[]>([]);
  /** Step 8's snapshot ensemble, once the run is complete. */
  ensemble = $state.raw<{ k: number; validAccuracy: number } | null>(null);
  /** The step a continue starts with (1 before a run, 9 when all eight are done). */
  nextStep = $state(1);
  /** The step running now (between its 'started' and 'done' events). */
  currentStep = $state<number | null>(null);
  /** The last step the current call runs to. */
  untilStep = $state<number | null>(null);
  progress = $state.raw<RecipeProgress | null>(null);
  lrFinds = $state.raw<Record<number, RecipeLrFind>>({});
  /** Bumped on every batch/epoch so that charts recompute; the live arrays are not reactive. */
  liveVersion = $state(0);
  /** Interpretations by run id and TTA flag (results page). */
  interpretations = $state.raw<Record<string, Interpretation>>({});
  exports = $state.raw<{ single: string | null; ensemble: string | null; files: string[] }>({
    single: null,
    ensemble: null,
    files: [],
  });

  /** The run-time estimate of a new run with the current settings (measured by the service), and its state. */
  estimate = $state.raw<RecipeEstimate | null>(null);
  estimating = $state(false);
  estimateError = $state<string | null>(null);
  private estimateKey: string | null = null;

  private live = new Map<number, StepLive>();
  private early: { event: string; payload: { runId: number } }[] = [];
  private rejoinTried = false;

  constructor() {
    const api = getStudioApi();
    api.on('recipe.step', (p) => this.route('step', p));
    api.on('recipe.lrfind', (p) => this.route('lrfind', p));
    api.on('train.progress', (p) => this.route('progress', p));
    api.on('train.batch', (p) => this.route('batch', p));
    api.on('train.epoch', (p) => this.route('epoch', p));
    api.on('train.done', (p) => this.route('done', p));
    onConnectionChange((c) => {
      if (c.status !== 'open') return;
      if (this.runId === null && !this.rejoinTried) {
        this.rejoinTried = true;
        void this.rejoin();
      } else if (this.runId !== null && this.active) void this.reload();
    });
  }

  get active(): boolean {
    return this.state === 'starting' || this.state === 'running' || this.state === 'cancelling';
  }

  result(step: number): RecipeStepResult | null {
    return this.steps.find((s) => s.step === step) ?? null;
  }

  liveOf(step: number): StepLive {
    void this.liveVersion;
    const live = this.live.get(step);
    // A fresh object each version, so that deriveds depending on it recompute.
    return live
      ? { loss: [...live.loss], lr: [...live.lr], epochs: [...live.epochs] }
      : { loss: [], lr: [], epochs: [] };
  }

  /** The head LR: step 3's, else the fixed one, else step 2's pick on the standalone LR finder. */
  get headLr(): number | null {
    return this.result(3)?.lr ?? this.result(2)?.lr ?? this.settings.lrHead ?? null;
  }

  /** The config `recipe.start` gets: the dataset page's folder, size, batch and seed, plus the step settings. */
  startConfig(): RecipeConfig {
    // The backbone and the class-imbalance handling are step 1's choices (shared settings).
    const { backbone: _backbone, balance: _balance, ...s } = $state.snapshot(this.settings) as RecipeSettings;
    const pick = app.lrPick && app.lrPick.stage === 'head' ? app.lrPick.lr : null;
    return {
      ...s,
      dir: app.dataset?.dir ?? app.folder.trim(),
      size: app.settings.size,
      batchSize: app.settings.batchSize,
      seed: app.settings.seed,
      validPct: app.settings.validPct,
      dropout: app.settings.dropout,
      lrHead: s.lrHead ?? pick,
      ...app.modelChoices(),
    };
  }

  /**
   * Why a run cannot start now, or null: the backbone chosen in step 1 cannot be fine-tuned (steps 5–8). Only when
   * the next run is a new one; a paused run goes on with the backbone it was started with.
   */
  get backboneBlock(): string | null {
    const startsNew = this.runId === null || this.state === 'failed' || this.state === 'cancelled';
    const chosen = app.backbone;
    if (!startsNew || chosen === null || chosen.canFineTune) return null;
    return t('recipe:errors.backboneFrozen', { name: chosen.name });
  }

  /** Settings of the steps not yet run. */
  private overrides(): Partial<RecipeSettings> {
    const s = $state.snapshot(this.settings) as RecipeSettings;
    const next = this.nextStep;
    const out: Partial<RecipeSettings> = {
      patience: s.patience,
      ensembleK: s.ensembleK,
      cycles: s.cycles,
      cycleMult: s.cycleMult,
      lrAll: s.lrAll,
      ...optionOverrides(s, next),
    };
    if (next <= 7) out.lrFind = s.lrFind;
    if (next <= 6) out.lrRatio = s.lrRatio;
    if (next <= 4) {
      out.augmentEpochs = s.augmentEpochs;
      out.preset = s.preset;
    }
    if (next <= 3) {
      out.headEpochs = s.headEpochs;
      out.lrHead = s.lrHead;
    }
    return out;
  }

  /** Runs the recipe up to `untilStep`: `recipe.start` without a run, else `recipe.continue`. */
  async run(untilStep: number): Promise<void> {
    if (this.active) return;
    const blocked = this.backboneBlock;
    if (blocked !== null) {
      this.error = blocked;
      return;
    }
    const api = getStudioApi();
    // Paused, cancelled and interrupted runs go on from their checkpoint (same weights, optimizer state and schedule
    // position); a failed run starts afresh.
    const existing = this.runId !== null && this.state !== 'failed' ? this.runId : null;
    this.state = 'starting';
    this.error = null;
    this.untilStep = untilStep;
    this.progress = null;
    this.early = [];
    try {
      if (existing === null) {
        this.resetRun();
        const params = withRerun('fastai8', { config: this.startConfig(), untilStep });
        const { runId } = await api.invoke('recipe.start', params);
        this.runId = runId;
      } else {
        await api.invoke('recipe.continue', { runId: existing, untilStep, overrides: this.overrides() });
      }
      if (this.state === 'starting') this.state = 'running';
      const early = this.early;
      this.early = [];
      for (const e of early) if (e.payload.runId === this.runId) this.apply(e.event, e.payload);
    } catch (error) {
      this.early = [];
      this.state = existing === null ? 'failed' : 'paused';
      this.error = errorMessage(error);
    }
  }

  /** Measure and estimate a run of `config`, unless the last estimate was for the same config. */
  async estimateFor(config: RecipeConfig): Promise<void> {
    const key = JSON.stringify(config);
    if (key === this.estimateKey) return;
    this.estimateKey = key;
    this.estimate = null;
    this.estimateError = null;
    this.estimating = true;
    try {
      const estimate = await getStudioApi().invoke('recipe.estimate', config);
      if (this.estimateKey === key) this.estimate = estimate;
    } catch (error) {
      if (this.estimateKey === key) this.estimateError = errorMessage(error);
    } finally {
      if (this.estimateKey === key) this.estimating = false;
    }
  }

  async cancel(): Promise<void> {
    if (this.runId === null || this.state !== 'running') return;
    this.state = 'cancelling';
    try {
      await getStudioApi().invoke('train.cancel', { runId: this.runId });
    } catch (error) {
      this.state = 'running';
      this.error = t('recipe:errors.cancelFailed', { error: errorMessage(error) });
    }
  }

  /** Forget the run (a new `recipe.start` follows). */
  resetRun(): void {
    this.runId = null;
    this.steps = [];
    this.nextStep = 1;
    this.currentStep = null;
    this.runConfig = null;
    this.lrFinds = {};
    this.live = new Map();
    this.interpretations = {};
    this.exports = { single: null, ensemble: null, files: [] };
    this.liveVersion++;
  }

  /** After a reload: the newest paused recipe run, if any. */
  async rejoin(): Promise<void> {
    try {
      const list = await getStudioApi().invoke('runs.list', {});
      // A recipe run can go on from its checkpoint whether it was paused, cancelled or cut off by a crash.
      const resumable = new Set(['paused', 'cancelled', 'interrupted']);
      const latest = list.filter((r) => r.kind === 'fastai8').sort((a, b) => b.id - a.id)[0];
      if (!latest || !resumable.has(latest.status) || this.runId !== null) return;
      this.runId = latest.id;
      this.state = latest.status as 'paused' | 'cancelled' | 'interrupted';
      await this.reload();
    } catch {
      // No history yet: nothing to rejoin.
    }
  }

  /** Reads the run's config, results and per-epoch metrics back from the server. */
  async reload(): Promise<void> {
    const runId = this.runId;
    if (runId === null) return;
    const api = getStudioApi();
    try {
      const state = await api.invoke('recipe.state', { runId });
      if (this.runId !== runId) return;
      this.runConfig = state.config;
      this.steps = state.steps;
      this.ensemble = state.ensemble;
      this.nextStep = state.nextStep;
      const { dir: _dir, ...settings } = state.config;
      this.settings = { ...settings, lrFind: { ...settings.lrFind } };
      const detail = await api.invoke('runs.get', { runId });
      if (this.runId !== runId) return;
      if (!this.active) this.state = detail.status;
      for (const m of detail.metrics) {
        const step = STEP_OF_NAME[m.step];
        if (step === undefined) continue;
        const live = this.ensureLive(step);
        if (live.epochs.some((e) => e.epoch === m.epoch)) continue;
        const last = live.epochs[live.epochs.length - 1];
        live.epochs.push({ ...m, x: Math.max((last?.x ?? 0) + 1, live.loss.length) });
      }
      this.liveVersion++;
    } catch (error) {
      this.error = t('recipe:errors.readRun', { error: errorMessage(error) });
    }
  }

  async interpret(tta: boolean): Promise<Interpretation> {
    const runId = this.runId;
    if (runId === null) throw new Error(t('recipe:errors.noRun'));
    const key = `${runId}:${tta}`;
    const cached = this.interpretations[key];
    if (cached) return cached;
    const result = await getStudioApi().invoke('model.interpret', { runId, tta });
    this.interpretations = { ...this.interpretations, [key]: result };
    return result;
  }

  /** `force`: replace a non-empty folder (without it the export refuses one). */
  async exportModel(ensemble: boolean, force = false): Promise<void> {
    const runId = this.runId;
    if (runId === null) return;
    const result = await getStudioApi().invoke('model.export', { runId, ensemble, ...(force ? { force } : {}) });
    this.exports = ensemble
      ? { ...this.exports, ensemble: result.dir, files: result.files }
      : { ...this.exports, single: result.dir, files: result.files };
  }

  private ensureLive(step: number): StepLive {
    let live = this.live.get(step);
    if (!live) {
      live = { loss: [], lr: [], epochs: [] };
      this.live.set(step, live);
    }
    return live;
  }

  private route(event: string, payload: { runId: number }): void {
    if (this.state === 'starting') {
      this.early.push({ event, payload });
      return;
    }
    if (payload.runId !== this.runId || this.runId === null) return;
    this.apply(event, payload);
  }

  private apply(event: string, payload: { runId: number }): void {
    switch (event) {
      case 'step': {
        const p = payload as EventPayload<'recipe.step'>;
        if (p.status === 'started') {
          this.currentStep = p.step;
          if (p.step === 3 || p.step === 4 || p.step === 8) this.live.set(p.step, { loss: [], lr: [], epochs: [] });
          this.liveVersion++;
        } else {
          this.currentStep = null;
          if (p.result) this.steps = [...this.steps.filter((s) => s.step !== p.step), p.result];
          this.nextStep = Math.max(this.nextStep, p.step + 1);
        }
        break;
      }
      case 'lrfind': {
        const p = payload as EventPayload<'recipe.lrfind'>;
        this.lrFinds = { ...this.lrFinds, [p.step]: p.result };
        break;
      }
      case 'progress':
        this.progress = payload as RecipeProgress;
        break;
      case 'batch': {
        const p = payload as EventPayload<'train.batch'>;
        if (this.currentStep === null) break;
        const live = this.ensureLive(this.currentStep);
        live.loss.push(p.loss);
        live.lr.push(p.lr);
        this.liveVersion++;
        break;
      }
      case 'epoch': {
        const { runId: _runId, ...m } = payload as EventPayload<'train.epoch'>;
        const step = STEP_OF_NAME[m.step] ?? this.currentStep;
        if (step === null || step === undefined) break;
        const live = this.ensureLive(step);
        const last = live.epochs[live.epochs.length - 1];
        const seen = live.loss.length;
        const x = last && seen <= last.x ? last.x + 1 : Math.max(seen, 1);
        live.epochs.push({ ...m, x });
        this.liveVersion++;
        break;
      }
      case 'done': {
        const p = payload as EventPayload<'train.done'>;
        this.state = p.status === 'running' ? 'interrupted' : p.status;
        this.error = p.error;
        this.currentStep = null;
        this.untilStep = null;
        void this.reload();
        break;
      }
    }
  }
}

export const recipe = new RecipeSession();
