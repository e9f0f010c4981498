import type { AppInfo, DatasetSummary, HeadTrainConfig, RecipeConfig } from '../../../src-shared/contract';
import { errorMessage, getStudioApi } from '../api';
import { Task } from './task.svelte';

/** The wizard's pages: one per step (see `recipe/steps.ts`), then results, export and the run history. */
export type PageId =
  | 'dataset'
  | 'lr-find'
  | 'train-head'
  | 'recipe-4'
  | 'recipe-5'
  | 'recipe-6'
  | 'lr-find-full'
  | 'recipe-8'
  | 'results'
  | 'export'
  | 'use-model'
  | 'runs';

/** The page of each of the eight steps, in order (recipe/steps.ts has the pages themselves). */
export const STEP_PAGES: readonly PageId[] = [
  'dataset',
  'lr-find',
  'train-head',
  'recipe-4',
  'recipe-5',
  'recipe-6',
  'lr-find-full',
  'recipe-8',
];

export type TrainSettings = Omit<HeadTrainConfig, 'dir'>;
export type BackboneOption = AppInfo['backbones'][number];
export type BalanceMode = NonNullable<HeadTrainConfig['balance']>;

/** A deep copy, so that editing the settings never writes into `app.info.defaults`. */
function copySettings(settings: TrainSettings): TrainSettings {
  return { ...settings, schedule: { ...settings.schedule } };
}

/** Wizard-wide state: backend info, the current page, the dataset and the shared training settings. */
class AppState {
  info = $state.raw<AppInfo | null>(null);
  infoError = $state<string | null>(null);
  infoLoading = $state(false);

  page = $state<PageId>('dataset');

  /** The folder path typed or picked on the dataset page (also the `dir` of the training run). */
  folder = $state('');
  dataset = $state.raw<DatasetSummary | null>(null);
  scanning = $state(false);
  scanError = $state<string | null>(null);
  /** The sample's copy or the folder dialog, under way. */
  private readonly picker = new Task();
  get picking(): boolean {
    return this.picker.running;
  }

  /** Training settings; replaced by `app.info.defaults` as soon as they are known. */
  settings = $state<TrainSettings>({
    epochs: 3,
    lr: 0.01,
    size: 224,
    batchSize: 32,
    seed: 42,
    dropout: 0.25,
    validPct: 0.2,
    schedule: { kind: 'constant' },
  });

  /** The run the export page works on. */
  exportRunId = $state<number | null>(null);

  async loadInfo(): Promise<void> {
    if (this.infoLoading) return;
    this.infoLoading = true;
    this.infoError = null;
    try {
      const info = await getStudioApi().invoke('app.info', {});
      this.info = info;
      this.settings = copySettings(info.defaults);
    } catch (error) {
      this.infoError = errorMessage(error);
    } finally {
      this.infoLoading = false;
    }
  }

  /** Back to the defaults; the step 1 choices (backbone, class imbalance) stay. */
  resetSettings(): void {
    if (!this.info) return;
    const { backbone, balance } = this.settings;
    this.settings = { ...copySettings(this.info.defaults), backbone, balance };
  }

  /** The backbone chosen in step 1 (the registry's first, the bundled offline one, unless another is picked). */
  get backbone(): BackboneOption | null {
    const list = this.info?.backbones ?? [];
    return list.find((b) => b.id === this.settings.backbone) ?? list[0] ?? null;
  }

  /** The class-imbalance handling chosen in step 1. */
  get balance(): BalanceMode {
    return this.settings.balance ?? 'none';
  }

  /**
   * `backbone` and `balance` as `train.start` and `recipe.start` get them: no backbone for the bundled default, no
   * balance until one is chosen (as from the CLI), so that a run loaded by "Run again" starts with its exact config.
   */
  modelChoices(): { backbone?: string; balance?: BalanceMode } {
    const chosen = this.backbone;
    const isDefault = chosen === null || chosen.id === this.info?.backbones[0]?.id;
    const balance = this.settings.balance === undefined ? {} : { balance: this.settings.balance };
    return isDefault ? balance : { backbone: chosen.id, ...balance };
  }

  /** Training images in the scanned dataset (the sum of the per-class train counts), or null before a scan. */
  get trainCount(): number | null {
    return this.dataset ? this.dataset.classes.reduce((sum, c) => sum + c.train, 0) : null;
  }

  /** Mini-batches per epoch, as the trainer counts them: ceil(training images / batch size). */
  get itersPerEpoch(): number | null {
    const n = this.trainCount;
    const batch = this.settings.batchSize;
    if (n === null || n === 0 || !Number.isInteger(batch) || batch < 1) return null;
    return Math.ceil(n / batch);
  }

  /**
   * A run found on the server (a reload, a second window, Run history): its folder, split, size and step 1 choices
   * become the wizard's, its dataset is scanned again, and the wizard opens on `step`'s page.
   */
  adoptRun(config: RecipeConfig, step: number): void {
    const { dir, size, batchSize, seed, validPct, dropout, backbone, balance } = config;
    this.settings = {
      ...this.settings,
      size,
      batchSize,
      seed,
      validPct,
      dropout,
      ...(backbone ? { backbone } : {}),
      ...(balance ? { balance } : {}),
    };
    this.page = STEP_PAGES[step - 1] ?? 'dataset';
    if (this.dataset?.dir === dir && this.dataset.seed === seed) return;
    this.folder = dir;
    void this.scan();
  }

  async scan(): Promise<void> {
    const dir = this.folder.trim();
    if (!dir || this.scanning) return;
    this.scanning = true;
    this.scanError = null;
    try {
      this.dataset = await getStudioApi().invoke('dataset.scan', {
        dir,
        seed: this.settings.seed,
        validPct: this.settings.validPct,
      });
    } catch (error) {
      this.dataset = null;
      this.scanError = errorMessage(error);
    } finally {
      this.scanning = false;
    }
  }

  /** The shipped sample dataset (copied into the home by the service), put in the field and scanned: no typing. */
  async useSample(): Promise<void> {
    await this.whilePicking(async () => {
      this.scanError = null;
      const { dir } = await getStudioApi().invoke('dataset.sample', {});
      this.folder = dir;
      await this.scan();
    });
  }

  /** A folder chosen in the browser UI's folder browser: into the field, then scanned. */
  async useFolder(dir: string): Promise<void> {
    this.folder = dir;
    await this.scan();
  }

  async pickFolder(): Promise<void> {
    await this.whilePicking(async () => {
      const { dir } = await getStudioApi().invoke('dataset.pickFolder', {});
      if (dir) {
        this.folder = dir;
        await this.scan();
      }
    });
  }

  /** One way of choosing the folder at a time (sample or dialog); its failure shows where a scan's would. */
  private async whilePicking(choose: () => Promise<void>): Promise<void> {
    await this.picker.runIfIdle(choose);
    if (this.picker.error !== null) this.scanError = this.picker.error;
  }
}

export const app = new AppState();
