import type { Result, RunSummary } from '../../../src-shared/contract';
import { errorMessage, getStudioApi } from '../api';
import { app } from './app.svelte';
import { recipe } from './recipe.svelte';
import { rerunFrom } from './rerunFrom.svelte';

export type RunsComparison = Result<'runs.compare'>;

/**
 * The run history (`runs.list`), refreshed on demand, when a run the list does not have yet reports, and when one
 * ends; the runs ticked for comparison, the comparison (`runs.compare`), deleting a run (`runs.delete`), and loading
 * a run's config into the wizard to run it again (`runs.rerunConfig`).
 */
class RunsState {
  list = $state.raw<RunSummary[]>([]);
  loading = $state(false);
  loaded = $state(false);
  error = $state<string | null>(null);

  /** Run ids ticked for comparison, in the order they were ticked (the comparison's order and colours). */
  selected = $state.raw<number[]>([]);
  comparison = $state.raw<RunsComparison | null>(null);
  comparing = $state(false);
  compareError = $state<string | null>(null);

  async refresh(): Promise<void> {
    this.loading = true;
    try {
      const list = await getStudioApi().invoke('runs.list', {});
      this.list = [...list].sort((a, b) => b.id - a.id);
      // Runs deleted elsewhere (the CLI) leave the selection.
      this.selected = this.selected.filter((id) => this.list.some((r) => r.id === id));
      this.error = null;
      this.loaded = true;
    } catch (error) {
      this.error = errorMessage(error);
    } finally {
      this.loading = false;
    }
  }

  toggle(runId: number, on: boolean): void {
    this.selected = on
      ? [...this.selected.filter((id) => id !== runId), runId]
      : this.selected.filter((id) => id !== runId);
  }

  async compare(): Promise<void> {
    if (this.selected.length < 2) return;
    this.comparing = true;
    this.compareError = null;
    try {
      this.comparison = await getStudioApi().invoke('runs.compare', { runIds: this.selected });
    } catch (error) {
      this.compareError = errorMessage(error);
    } finally {
      this.comparing = false;
    }
  }

  closeComparison(): void {
    this.comparison = null;
    this.compareError = null;
  }

  /**
   * "Run again": the run's folder (scanned), settings and seed into the wizard, then its start page (step 3 for a
   * head run, step 1 with "Run all eight steps" for a recipe run). Throws the service's reason.
   */
  async loadRerun(runId: number): Promise<void> {
    const loaded = await getStudioApi().invoke('runs.rerunConfig', { runId });
    const { dir, seed, size, batchSize, validPct, dropout, backbone, balance } = loaded.config;
    if (loaded.kind === 'head') {
      const { dir: _dir, ...settings } = loaded.config;
      app.settings = { ...settings, schedule: { ...settings.schedule } };
    } else {
      const { dir: _dir, ...settings } = loaded.config;
      // A new recipe run (the paused one, if any, stays in the history and can be continued from it).
      recipe.resetRun();
      recipe.state = 'idle';
      recipe.error = null;
      recipe.settings = { ...settings, lrFind: { ...settings.lrFind } };
      app.settings = { ...app.settings, seed, size, batchSize, validPct, dropout, backbone, balance };
    }
    // The LR is the run's own, not one picked on the LR finder page since.
    app.lrPick = null;
    app.folder = dir;
    await app.scan();
    rerunFrom.source = { runId, kind: loaded.kind, dir: app.dataset?.dir ?? dir };
    // A folder that no longer scans is shown where it can be fixed: step 1.
    app.page = loaded.kind === 'head' && app.dataset ? 'train-head' : 'dataset';
  }

  /** Deletes the run's history and folder; throws the service's reason (e.g. the run is training). */
  async remove(runId: number): Promise<void> {
    await getStudioApi().invoke('runs.delete', { runId });
    this.selected = this.selected.filter((id) => id !== runId);
    if (this.comparison?.runs.some((r) => r.id === runId)) this.comparison = null;
    await this.refresh();
  }
}

export const runs = new RunsState();

getStudioApi().on('train.done', () => {
  void runs.refresh();
});
// A run started here or elsewhere (the CLI, another window) shows up, as "running", with its first progress report.
getStudioApi().on('train.progress', ({ runId }) => {
  if (!runs.loading && !runs.list.some((r) => r.id === runId)) void runs.refresh();
});
