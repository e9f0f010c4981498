import type { EpochMetrics, EventPayload, HeadTrainConfig, RunStatus } from '../../../src-shared/contract';
import type { PlannedSchedule } from '../../../src-shared/schedules/training';
import { errorMessage, getStudioApi, onConnectionChange } from '../api';
import { t } from '../i18n/i18n.svelte';
import { requestCancel } from './jobs';
import { withRerun } from './rerunFrom.svelte';

export type TrainState = 'idle' | 'starting' | 'cancelling' | RunStatus;
export type TrainProgress = EventPayload<'train.progress'>;

/** An epoch's metrics plus where it sits on the chart's x axis (batches seen so far). */
export type EpochPoint = EpochMetrics & { x: number };

type TrainEvent =
  | { kind: 'progress'; payload: TrainProgress }
  | { kind: 'batch'; payload: EventPayload<'train.batch'> }
  | { kind: 'epoch'; payload: EventPayload<'train.epoch'> }
  | { kind: 'done'; payload: EventPayload<'train.done'> };

export interface LossChartData {
  x: number[];
  trainLoss: (number | null)[];
  validLoss: (number | null)[];
  validAccuracy: (number | null)[];
}

/** The LR per batch: what the plan said (faint) and what the trainer applied (`train.batch.lr`). */
export interface LrChartData {
  x: number[];
  planned: (number | null)[];
  applied: (number | null)[];
}

/**
 * The head-training run of this window (step 3). It lives outside the page so that navigating away and back
 * keeps the progress, the chart and the metrics.
 */
class TrainingSession {
  runId = $state<number | null>(null);
  state = $state<TrainState>('idle');
  error = $state<string | null>(null);
  progress = $state.raw<TrainProgress | null>(null);
  epochs = $state.raw<EpochPoint[]>([]);
  config = $state.raw<HeadTrainConfig | null>(null);
  /** The schedule the run was started with, as previewed (null when the dataset was not scanned). */
  plan = $state.raw<PlannedSchedule | null>(null);
  /** Bumped on every batch/epoch so that charts recompute; the raw batch losses are not reactive. */
  chartVersion = $state(0);

  private batchLoss: number[] = [];
  /** LR applied per iteration (`train.batch.iteration` is 0-based; the charts' x is iteration + 1). */
  private batchLr: (number | null)[] = [];
  /** Events that arrive while `train.start` has not answered yet (the run id is still unknown). */
  private early: TrainEvent[] = [];

  constructor() {
    const api = getStudioApi();
    api.on('train.progress', (payload) => this.route({ kind: 'progress', payload }));
    api.on('train.batch', (payload) => this.route({ kind: 'batch', payload }));
    api.on('train.epoch', (payload) => this.route({ kind: 'epoch', payload }));
    api.on('train.done', (payload) => this.route({ kind: 'done', payload }));

    // Events sent while the WebSocket was down are lost: after a reconnection, catch up from the run store.
    let wasLost = false;
    onConnectionChange((connection) => {
      if (connection.status === 'lost') wasLost = true;
      else if (connection.status === 'open' && wasLost) {
        wasLost = false;
        void this.resync();
      }
    });
  }

  get active(): boolean {
    return this.state === 'starting' || this.state === 'running' || this.state === 'cancelling';
  }

  get batches(): number {
    void this.chartVersion;
    return this.batchLoss.length;
  }

  async start(config: HeadTrainConfig, plan: PlannedSchedule | null = null): Promise<void> {
    if (this.active) return;
    this.runId = null;
    this.state = 'starting';
    this.error = null;
    this.progress = null;
    this.epochs = [];
    this.config = config;
    this.plan = plan;
    this.batchLoss = [];
    this.batchLr = [];
    this.early = [];
    this.chartVersion++;
    try {
      const { runId } = await getStudioApi().invoke('train.start', withRerun('head', config));
      this.runId = runId;
      if (this.state === 'starting') this.state = 'running';
      const early = this.early;
      this.early = [];
      for (const event of early) if (event.payload.runId === runId) this.apply(event);
    } catch (error) {
      this.early = [];
      this.state = 'failed';
      this.error = errorMessage(error);
    }
  }

  async cancel(): Promise<void> {
    const runId = this.runId;
    if (runId === null || this.state !== 'running') return;
    await requestCancel(this, () => getStudioApi().invoke('train.cancel', { runId }));
  }

  private async resync(): Promise<void> {
    const runId = this.runId;
    if (runId === null || !this.active) return;
    try {
      const detail = await getStudioApi().invoke('runs.get', { runId });
      if (this.runId !== runId) return;
      if (detail.metrics.length > this.epochs.length) {
        const missing: EpochPoint[] = [];
        let x = this.epochs[this.epochs.length - 1]?.x ?? 0;
        for (const metrics of detail.metrics.slice(this.epochs.length)) {
          x = Math.max(x + 1, this.batchLoss.length);
          missing.push({ ...metrics, x });
        }
        this.epochs = [...this.epochs, ...missing];
        this.chartVersion++;
      }
      if (detail.status !== 'running') {
        this.state = detail.status;
        this.error = detail.error;
      }
    } catch (error) {
      // Worded once, in the language of the moment (the error itself is the backend's).
      this.error = t('train:refreshError', { error: errorMessage(error) });
    }
  }

  chartData(): LossChartData {
    const n = Math.max(this.batchLoss.length, ...this.epochs.map((e) => e.x), 0);
    const x: number[] = [];
    const trainLoss: (number | null)[] = [];
    const validLoss: (number | null)[] = [];
    const validAccuracy: (number | null)[] = [];
    const byX: (EpochPoint | undefined)[] = [];
    for (const e of this.epochs) byX[e.x] = e;
    for (let i = 1; i <= n; i++) {
      const epoch = byX[i];
      x.push(i);
      trainLoss.push(this.batchLoss[i - 1] ?? null);
      validLoss.push(epoch ? epoch.validLoss : null);
      validAccuracy.push(epoch ? epoch.validAccuracy : null);
    }
    return { x, trainLoss, validLoss, validAccuracy };
  }

  lrChartData(): LrChartData {
    const planned = this.plan?.lr ?? [];
    const n = Math.max(planned.length, this.batchLr.length);
    if (n === 0) return { x: [], planned: [], applied: [] };
    // Batch b (1-based) runs over (b - 1, b]: drawn as steps ending at b, opened by a point at 0.
    const x: number[] = [0];
    const plannedOut: (number | null)[] = [planned[0] ?? null];
    const applied: (number | null)[] = [this.batchLr[0] ?? null];
    for (let i = 0; i < n; i++) {
      x.push(i + 1);
      plannedOut.push(planned[i] ?? null);
      applied.push(this.batchLr[i] ?? null);
    }
    return { x, planned: plannedOut, applied };
  }

  /** Batches whose applied LR has arrived. */
  get appliedLrCount(): number {
    void this.chartVersion;
    return this.batchLr.filter((v) => v !== null && v !== undefined).length;
  }

  private route(event: TrainEvent): void {
    if (this.state === 'starting' && this.runId === null) {
      this.early.push(event);
      return;
    }
    if (event.payload.runId !== this.runId) return;
    this.apply(event);
  }

  private apply(event: TrainEvent): void {
    switch (event.kind) {
      case 'progress':
        this.progress = event.payload;
        break;
      case 'batch':
        this.batchLoss.push(event.payload.loss);
        this.batchLr[event.payload.iteration] = event.payload.lr;
        this.chartVersion++;
        break;
      case 'epoch': {
        const last = this.epochs[this.epochs.length - 1];
        const seen = this.batchLoss.length;
        const x = last && seen <= last.x ? last.x + 1 : Math.max(seen, 1);
        const { runId: _runId, ...metrics } = event.payload;
        this.epochs = [...this.epochs, { ...metrics, x }];
        this.chartVersion++;
        break;
      }
      case 'done':
        this.state = event.payload.status === 'running' ? 'interrupted' : event.payload.status;
        this.error = event.payload.error;
        break;
    }
  }
}

export const training = new TrainingSession();
