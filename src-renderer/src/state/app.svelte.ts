import type { AppInfo, DatasetSummary, HeadTrainConfig } from '../../../src-main/ipc/contract';
import { errorMessage, getStudioApi } from '../api';
import type { PageId } from '../steps';

export type TrainSettings = Omit<HeadTrainConfig, 'dir'>;

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
  picking = $state(false);

  /** Training settings; replaced by `app.info.defaults` as soon as they are known. */
  settings = $state<TrainSettings>({
    epochs: 3,
    lr: 0.01,
    size: 224,
    batchSize: 32,
    seed: 42,
    dropout: 0.25,
    validPct: 0.2,
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
      this.settings = { ...info.defaults };
    } catch (error) {
      this.infoError = errorMessage(error);
    } finally {
      this.infoLoading = false;
    }
  }

  resetSettings(): void {
    if (this.info) this.settings = { ...this.info.defaults };
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

  async pickFolder(): Promise<void> {
    if (this.picking) return;
    this.picking = true;
    try {
      const { dir } = await getStudioApi().invoke('dataset.pickFolder', {});
      if (dir) {
        this.folder = dir;
        await this.scan();
      }
    } catch (error) {
      this.scanError = errorMessage(error);
    } finally {
      this.picking = false;
    }
  }
}

export const app = new AppState();
