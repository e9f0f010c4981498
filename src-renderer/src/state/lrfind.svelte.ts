import type { AppInfo, EventPayload, LrFindConfig, LrFindResult } from '../../../src-shared/contract';
import { errorMessage, getStudioApi } from '../api';
import { requestCancel } from './jobs';

export type LrFindStage = LrFindConfig['stage'];
export type LrFindState = 'idle' | 'starting' | 'running' | 'cancelling' | 'completed' | 'cancelled' | 'failed';
export type LrFindProgress = EventPayload<'lrfind.progress'>;
export type LrFindSweep = Pick<LrFindConfig, 'start' | 'end' | 'iters' | 'mode'>;
export type SuggestionName = keyof LrFindResult['suggestions'];

type LrFindEvent =
  | { kind: 'progress'; payload: LrFindProgress }
  | { kind: 'step'; payload: EventPayload<'lrfind.step'> }
  | { kind: 'done'; payload: EventPayload<'lrfind.done'> };

/** The curve as the chart draws it: while running, the live steps; afterwards, the result. */
export interface LrCurve {
  lr: number[];
  loss: (number | null)[];
  smoothedLoss: (number | null)[];
  /** The validation loss per step, when the test recorded it (the recipe's `lrFindOn: 'valid'`). */
  validLoss?: (number | null)[];
}

export interface LrFindPick {
  lr: number;
  source: SuggestionName | 'chart';
}

/** Learning rates are picked with 3 significant digits: what the page shows is exactly what training gets. */
export function roundLr(lr: number): number {
  return Number(lr.toPrecision(3));
}

/**
 * One LR finder stage ('head': step 2, 'full': step 7). Lives outside the page so that leaving and returning keeps
 * the form, the curve, the result and the pick.
 */
export class LrFindSession {
  /** The sweep; prefilled from `app.info.lrFindDefaults` when they arrive. */
  sweep = $state<LrFindSweep>({ start: 1e-7, end: 10, iters: 100, mode: 'exp' });
  jobId = $state<number | null>(null);
  state = $state<LrFindState>('idle');
  error = $state<string | null>(null);
  progress = $state.raw<LrFindProgress | null>(null);
  /** What the last run was started with. */
  config = $state.raw<LrFindConfig | null>(null);
  result = $state.raw<LrFindResult | null>(null);
  /** The LR picked on this curve (a suggestion or a click), reset by a new run. */
  picked = $state.raw<LrFindPick | null>(null);
  /** Stage 'full': the completed run whose trained model the sweep starts from (null: the newest). */
  runChoice = $state<number | null>(null);
  /** Bumped on every live step so that the chart recomputes; the live arrays themselves are not reactive. */
  liveVersion = $state(0);

  private live: LrCurve = { lr: [], loss: [], smoothedLoss: [] };
  private sweepFromDefaults = false;

  constructor(
    readonly stage: LrFindStage,
    private readonly router: LrFindRouter,
  ) {}

  get active(): boolean {
    return this.state === 'starting' || this.state === 'running' || this.state === 'cancelling';
  }

  /** Steps received so far (live) or in the result. */
  get steps(): number {
    void this.liveVersion;
    return this.result ? this.result.lr.length : this.live.lr.length;
  }

  /** Prefill the sweep from the backend's defaults once (later calls keep the user's edits). */
  applyDefaults(info: AppInfo): void {
    if (this.sweepFromDefaults) return;
    this.sweepFromDefaults = true;
    this.sweep = { ...info.lrFindDefaults };
  }

  resetSweep(info: AppInfo): void {
    this.sweep = { ...info.lrFindDefaults };
  }

  curve(): LrCurve {
    void this.liveVersion;
    if (this.result) return this.result;
    return { lr: [...this.live.lr], loss: [...this.live.loss], smoothedLoss: [...this.live.smoothedLoss] };
  }

  async start(config: LrFindConfig): Promise<void> {
    if (this.active) return;
    this.jobId = null;
    this.state = 'starting';
    this.error = null;
    this.progress = null;
    this.config = config;
    this.result = null;
    this.picked = null;
    this.live = { lr: [], loss: [], smoothedLoss: [] };
    this.liveVersion++;
    this.router.expect();
    try {
      const { jobId } = await getStudioApi().invoke('lrfind.start', config);
      this.jobId = jobId;
      if (this.state === 'starting') this.state = 'running';
      for (const event of this.router.claim(jobId, this)) this.apply(event);
    } catch (error) {
      this.router.settle();
      this.state = 'failed';
      this.error = errorMessage(error);
    }
  }

  async cancel(): Promise<void> {
    const jobId = this.jobId;
    if (jobId === null || this.state !== 'running') return;
    await requestCancel(this, () => getStudioApi().invoke('lrfind.cancel', { jobId }));
  }

  pick(lr: number, source: LrFindPick['source']): LrFindPick {
    const picked = { lr: roundLr(lr), source };
    this.picked = picked;
    return picked;
  }

  /** @internal: called by the router with this job's events, in order. */
  apply(event: LrFindEvent): void {
    switch (event.kind) {
      case 'progress':
        this.progress = event.payload;
        break;
      case 'step': {
        const { iteration, lr, loss, smoothedLoss } = event.payload;
        this.live.lr[iteration] = lr;
        this.live.loss[iteration] = loss;
        this.live.smoothedLoss[iteration] = smoothedLoss;
        this.liveVersion++;
        break;
      }
      case 'done':
        this.state = event.payload.status;
        this.error = event.payload.error;
        if (event.payload.result) this.result = event.payload.result;
        this.liveVersion++;
        break;
    }
  }
}

/** Routes `lrfind.*` events to the session that owns the job; events that beat `lrfind.start`'s answer wait. */
class LrFindRouter {
  private readonly owners = new Map<number, LrFindSession>();
  private early: LrFindEvent[] = [];
  /** `lrfind.start` calls that have not answered yet: only then are unowned events kept. */
  private pending = 0;

  constructor() {
    const api = getStudioApi();
    api.on('lrfind.progress', (payload) => this.route({ kind: 'progress', payload }));
    api.on('lrfind.step', (payload) => this.route({ kind: 'step', payload }));
    api.on('lrfind.done', (payload) => this.route({ kind: 'done', payload }));
  }

  /** A session is about to call `lrfind.start`. */
  expect(): void {
    this.pending++;
  }

  /** A `lrfind.start` call failed. */
  settle(): void {
    this.pending = Math.max(0, this.pending - 1);
    if (this.pending === 0) this.early = [];
  }

  /** Registers the session as the job's owner and hands back the events that arrived before it knew its id. */
  claim(jobId: number, session: LrFindSession): LrFindEvent[] {
    this.owners.set(jobId, session);
    const mine = this.early.filter((e) => e.payload.jobId === jobId);
    this.early = this.early.filter((e) => e.payload.jobId !== jobId);
    this.settle();
    return mine;
  }

  private route(event: LrFindEvent): void {
    const owner = this.owners.get(event.payload.jobId);
    if (owner) {
      owner.apply(event);
      if (event.kind === 'done') this.owners.delete(event.payload.jobId);
    } else if (this.pending > 0) {
      // Possibly ours, before `lrfind.start` answered (or another window's job: dropped when nothing is pending).
      this.early.push(event);
    }
  }
}

class LrFinder {
  private readonly router = new LrFindRouter();
  readonly head = new LrFindSession('head', this.router);
  readonly full = new LrFindSession('full', this.router);

  session(stage: LrFindStage): LrFindSession {
    return stage === 'head' ? this.head : this.full;
  }

  /** The session whose job is running, if any: one LR finder at a time. */
  get busy(): LrFindSession | null {
    return this.head.active ? this.head : this.full.active ? this.full : null;
  }
}

export const lrFinder = new LrFinder();
