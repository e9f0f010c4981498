/**
 * The wizard's one job store: the run of fast.ai's eight steps this window drives or watches (docs/run-lifecycle.md).
 * Every page continues the same run with its settings (`run.continue`'s overrides); every event is scoped to its run
 * (`run.event`, with `runId`); on load, on reconnection and in a second window the server's `run.active` /
 * `run.state` bring back the run, its page, settings, progress, charts and Cancel.
 */
import type {
  Interpretation,
  LrFindCurve,
  RecipeConfig,
  RecipeEstimate,
  RecipeStepResult,
  RunEvent,
  RunProgress,
  RunState,
  RunStatus,
} from '../../../src-shared/contract';
import { DEFAULT_RECIPE_CONFIG } from '../../../src-shared/recipe/config';
import { errorMessage, getStudioApi, onConnectionChange } from '../api';
import { t, type CodedMessage } from '../i18n/i18n.svelte';
import { app } from './app.svelte';
import { optionOverrides } from './recipeOptions';
import { withRerun } from './rerunFrom.svelte';
import type { LrCurve } from './lrCurve';
import { RunLive, type StepLive } from './runLive';

export type { RecipeEpoch, StepLive } from './runLive';
export type RecipeSettings = Omit<RecipeConfig, 'dir'>;
export type RecipeState = 'idle' | 'starting' | 'cancelling' | RunStatus;
export type RecipeLrFind = LrFindCurve;
export type RecipeProgress = RunProgress;

/** fast.ai's defaults. */
function defaults(): RecipeSettings {
  return { ...DEFAULT_RECIPE_CONFIG, lrFind: { ...DEFAULT_RECIPE_CONFIG.lrFind } };
}

class RunJob {
  runId = $state<number | null>(null);
  state = $state<RecipeState>('idle');
  error = $state<string | null>(null);
  /** The settings of the steps not yet run (sent as `overrides` on continue). */
  settings = $state<RecipeSettings>(defaults());
  /** The config the server holds for the run (its start config with every continuation's overrides). */
  runConfig = $state.raw<RecipeConfig | null>(null);
  steps = $state.raw<RecipeStepResult[]>([]);
  /** Step 8's snapshot ensemble, once the run is complete. */
  ensemble = $state.raw<{ k: number; validAccuracy: number; memberAccuracies?: number[] } | null>(null);
  /** The step a continue starts with (1 before a run, 9 when all eight are done). */
  nextStep = $state(1);
  /** The step running now (between its 'started' and 'done' events). */
  currentStep = $state<number | null>(null);
  /** The last step the current leg runs to. */
  untilStep = $state<number | null>(null);
  /** The step the run's plan stops after (`RunState.untilStep`): with `state`, what the run is (kindLabel). */
  plannedUntil = $state<number | null>(null);
  progress = $state.raw<RecipeProgress | null>(null);
  lrFinds = $state.raw<Record<number, RecipeLrFind>>({});
  /** Whether the run has a model on disk (after step 3): export, predict and evaluate need one. */
  hasModel = $state(false);
  /** The run's warnings: English `text` and, where the backend coded it, `message` (shown with `say`). */
  warnings = $state.raw<Array<{ text: string; message: CodedMessage | null }>>([]);
  /** Bumped on every batch/epoch/point so that charts recompute; the live arrays are not reactive. */
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

  private live = new RunLive();
  /** Events that arrive while `run.start` has not answered yet (the run id is still unknown). */
  private early: RunEvent[] = [];
  private rejoinTried = false;

  constructor() {
    const api = getStudioApi();
    api.on('run.event', (event) => this.route(event));
    onConnectionChange((c) => {
      if (c.status !== 'open') return;
      if (this.runId === null && !this.rejoinTried) {
        this.rejoinTried = true;
        void this.rejoin();
      } else if (this.runId !== null && this.state !== 'starting') void this.reload();
    });
  }

  get active(): boolean {
    return this.state === 'starting' || this.state === 'running' || this.state === 'cancelling';
  }

  /** A new run starts on the next "Run" (none yet, or the last one cannot go on). */
  get startsNew(): boolean {
    return this.runId === null || this.state === 'failed' || this.state === 'completed';
  }

  result(step: number): RecipeStepResult | null {
    return this.steps.find((s) => s.step === step) ?? null;
  }

  liveOf(step: number): StepLive {
    void this.liveVersion;
    return this.live.copyOf(step);
  }

  /** The range test of step 2 or 7: its finished curve, else its points so far. */
  curveOf(step: number): LrCurve {
    void this.liveVersion;
    return this.lrFinds[step] ?? this.live.curveOf(step);
  }

  /** The head LR: the one picked on step 2's plot, else what step 2 (or step 3) settled on. */
  get headLr(): number | null {
    return this.settings.lrHead ?? this.result(3)?.lr ?? this.lrFinds[2]?.recommended.lr ?? this.result(2)?.lr ?? null;
  }

  /** The config `run.start` gets: the dataset page's folder, size, batch and seed, plus the step settings. */
  startConfig(): RecipeConfig {
    // The backbone and the class-imbalance handling are step 1's choices (shared settings).
    const { backbone: _backbone, balance: _balance, ...s } = $state.snapshot(this.settings) as RecipeSettings;
    return {
      ...s,
      dir: app.dataset?.dir ?? app.folder.trim(),
      size: app.settings.size,
      batchSize: app.settings.batchSize,
      seed: app.settings.seed,
      validPct: app.settings.validPct,
      dropout: app.settings.dropout,
      ...app.modelChoices(),
    };
  }

  /**
   * Why the run cannot go up to `untilStep` now, or null: steps 5–8 fine-tune the backbone, and the one chosen in
   * step 1 cannot be (steps 1–4 run with it frozen). A run's backbone is its own: only a new run is checked.
   */
  backboneBlockFor(untilStep: number): string | null {
    const chosen = app.backbone;
    if (untilStep <= 4 || !this.startsNew || chosen === null || chosen.canFineTune) return null;
    return t('recipe:errors.backboneFrozen', { name: chosen.name });
  }

  /** The config the rest of the current run would run with: its own, with the settings of the steps not yet run. */
  continueConfig(): RecipeConfig {
    return this.runConfig === null ? this.startConfig() : { ...this.runConfig, ...this.overrides() };
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
      ...optionOverrides(s, next),
    };
    if (s.lrAll !== null) out.lrAll = s.lrAll;
    if (s.warmupEpochs !== undefined) out.warmupEpochs = s.warmupEpochs;
    if (next <= 7) out.lrFind = s.lrFind;
    if (next <= 6) out.lrRatio = s.lrRatio;
    if (next <= 4) {
      out.augmentEpochs = s.augmentEpochs;
      out.preset = s.preset;
      if (s.lrHead !== null) out.lrHead = s.lrHead;
    }
    if (next <= 3) {
      out.headEpochs = s.headEpochs;
      if (s.headSchedule) out.headSchedule = s.headSchedule;
    }
    return out;
  }

  /** Runs the run up to `untilStep`: `run.start` for a new run, else `run.continue` of the same run. */
  async run(untilStep: number): Promise<void> {
    if (this.active) return;
    const blocked = this.backboneBlockFor(untilStep);
    if (blocked !== null) {
      this.error = blocked;
      return;
    }
    const api = getStudioApi();
    const existing = this.startsNew ? null : this.runId;
    this.state = 'starting';
    this.error = null;
    this.untilStep = untilStep;
    this.progress = null;
    this.early = [];
    try {
      if (existing === null) {
        this.resetRun();
        // The export page follows the wizard's new run (a pick made there was for an older one).
        app.exportRunId = null;
        const params = withRerun({ config: this.startConfig(), untilStep });
        const { runId } = await api.invoke('run.start', params);
        this.runId = runId;
      } else {
        await api.invoke('run.continue', { runId: existing, untilStep, overrides: this.overrides() });
      }
      if (this.state === 'starting') this.state = 'running';
      this.plannedUntil = untilStep;
      const early = this.early;
      this.early = [];
      for (const e of early) if (e.runId === this.runId) this.apply(e);
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
      await getStudioApi().invoke('run.cancel', { runId: this.runId });
    } catch (error) {
      this.state = 'running';
      this.error = t('recipe:errors.cancelFailed', { error: errorMessage(error) });
    }
  }

  /** Forget the run (a new `run.start` follows). */
  resetRun(): void {
    this.runId = null;
    this.steps = [];
    this.nextStep = 1;
    this.currentStep = null;
    this.runConfig = null;
    this.lrFinds = {};
    this.hasModel = false;
    this.warnings = [];
    this.live = new RunLive();
    this.interpretations = {};
    this.exports = { single: null, ensemble: null, files: [] };
    this.liveVersion++;
  }

  /** On load: the running run, else the newest paused one (`run.active`); the wizard opens on its page. */
  async rejoin(): Promise<void> {
    try {
      const { run } = await getStudioApi().invoke('run.active', {});
      if (!run || this.runId !== null) return;
      this.adopt(run, true);
    } catch {
      // No history yet: nothing to rejoin.
    }
  }

  /** Follow another run (Run history's "Open in the wizard"): its state, page and settings. */
  async watch(runId: number): Promise<void> {
    if (this.active && this.runId !== runId) return;
    const run = await getStudioApi().invoke('run.state', { runId });
    this.resetRun();
    this.adopt(run, true);
  }

  /** Reads the run back from the server (after a reconnection or a finished leg). */
  async reload(): Promise<void> {
    const runId = this.runId;
    if (runId === null) return;
    try {
      const run = await getStudioApi().invoke('run.state', { runId });
      if (this.runId === runId) this.adopt(run, false);
    } catch (error) {
      this.error = t('recipe:errors.readRun', { error: errorMessage(error) });
    }
  }

  /** Everything the server holds for the run; `restoreWizard`: also its dataset, settings and page. */
  private adopt(run: RunState, restoreWizard: boolean): void {
    this.runId = run.runId;
    if (this.state !== 'cancelling' || run.status !== 'running') this.state = run.status;
    this.error = run.error;
    this.runConfig = run.config;
    this.steps = run.steps;
    this.ensemble = run.ensemble;
    this.nextStep = run.nextStep;
    this.currentStep = run.currentStep;
    this.untilStep = run.status === 'running' ? run.untilStep : null;
    this.plannedUntil = run.untilStep;
    this.progress = run.progress;
    this.hasModel = run.hasModel;
    this.warnings = run.warnings.map((text, i) => ({ text, message: run.warningMessages?.[i] ?? null }));
    this.lrFinds = Object.fromEntries(run.lrFinds.map((c) => [c.step, c]));
    this.live.loadState(run);
    this.liveVersion++;
    const { dir: _dir, ...settings } = run.config;
    this.settings = { ...settings, lrFind: { ...settings.lrFind } };
    if (restoreWizard) app.adoptRun(run.config, run.currentStep ?? Math.min(run.nextStep, 8));
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

  private route(event: RunEvent): void {
    if (this.state === 'starting' && this.runId === null) {
      this.early.push(event);
      return;
    }
    if (this.runId === null || event.runId !== this.runId) return;
    this.apply(event);
  }

  private apply(event: RunEvent): void {
    if (this.live.apply(event, this.currentStep)) {
      this.liveVersion++;
      return;
    }
    switch (event.type) {
      case 'step':
        if (event.status === 'started') {
          this.currentStep = event.step;
          this.live.restartStep(event.step);
          this.liveVersion++;
        } else {
          this.currentStep = null;
          if (event.result) this.steps = [...this.steps.filter((s) => s.step !== event.step), event.result];
          this.nextStep = Math.max(this.nextStep, event.step + 1);
          if (event.step >= 3) this.hasModel = true;
        }
        break;
      case 'lrfind':
        this.lrFinds = { ...this.lrFinds, [event.result.step]: event.result };
        break;
      case 'progress': {
        const { runId: _runId, type: _type, ...progress } = event;
        this.progress = progress;
        break;
      }
      case 'warning':
        this.warnings = [...this.warnings, { text: event.message, message: event.coded ?? null }];
        break;
      case 'done':
        this.state = event.status === 'running' ? 'interrupted' : event.status;
        this.error = event.error;
        this.nextStep = event.nextStep;
        this.currentStep = null;
        this.untilStep = null;
        this.progress = null;
        void this.reload();
        break;
    }
  }
}

export const recipe = new RunJob();
