/**
 * The results page's data cleaner: the undo list of the run's dataset folder (kept there by the service, so it
 * survives a restart), relabel / exclude of an image, undo of the newest move, and a new run on the cleaned folder.
 */
import type { CleanEntry, CleanState } from '../../../src-shared/contract';
import { getStudioApi } from '../api';
import { app } from './app.svelte';
import { recipe } from './recipe.svelte';
import { rerunFrom } from './rerunFrom.svelte';
import { Task } from './task.svelte';

/** What happened to an image of the interpretation (still in the undo list). */
export type CleanStatus = { kind: 'relabel'; toClass: string } | { kind: 'exclude' };

class Cleaner {
  runId = $state<number | null>(null);
  dir = $state<string | null>(null);
  entries = $state.raw<CleanEntry[]>([]);
  /** The service call under way (one at a time), and the last one's failure. */
  private readonly serviceCall = new Task();

  get busy(): boolean {
    return this.serviceCall.running;
  }

  get error(): string | null {
    return this.serviceCall.error;
  }

  private async act(call: () => Promise<CleanState>): Promise<void> {
    await this.serviceCall.runIfIdle(async () => {
      const s = await call();
      this.dir = s.dir;
      this.entries = s.entries;
    });
  }

  async load(runId: number): Promise<void> {
    this.runId = runId;
    this.entries = [];
    await this.act(() => getStudioApi().invoke('clean.list', { runId }));
  }

  async relabel(file: string, toClass: string): Promise<void> {
    const runId = this.runId;
    if (runId !== null) await this.act(() => getStudioApi().invoke('clean.relabel', { runId, file, toClass }));
  }

  async exclude(file: string): Promise<void> {
    const runId = this.runId;
    if (runId !== null) await this.act(() => getStudioApi().invoke('clean.exclude', { runId, file }));
  }

  async undo(): Promise<void> {
    const runId = this.runId;
    if (runId !== null) await this.act(() => getStudioApi().invoke('clean.undo', { runId }));
  }

  /** An image's move still in the undo list, by its path when the run read it (relative to the dataset folder). */
  statusOf(file: string): CleanStatus | null {
    const dir = this.dir;
    if (dir === null) return null;
    const inDir = file.startsWith(dir) ? file.slice(dir.length).replace(/^[\\/]+/, '') : file;
    const rel = inDir.replace(/\\/g, '/');
    const e = this.entries.findLast((x) => x.from === rel);
    if (!e) return null;
    return e.kind === 'exclude' ? { kind: 'exclude' } : { kind: 'relabel', toClass: e.toClass ?? '' };
  }

  /** The same recipe config on the cleaned folder: re-scanned, then a new run recorded as a re-run of this one. */
  async runAgain(): Promise<void> {
    const { runId, dir } = this;
    if (runId === null || dir === null) return;
    app.folder = dir;
    await app.scan();
    if (app.scanError) {
      this.serviceCall.error = app.scanError;
      return;
    }
    rerunFrom.source = { runId, dir: app.dataset?.dir ?? dir };
    recipe.resetRun();
    app.page = 'lr-find';
    await recipe.run(8);
  }
}

export const cleaner = new Cleaner();
