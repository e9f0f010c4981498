import type { Result, RunSummary } from '../../../src-shared/contract';
import { errorMessage, getStudioApi } from '../api';
import { app, STEP_PAGES } from './app.svelte';
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
   * "Run again": the run's folder (scanned), settings and seed into the wizard, then the page of the last step it ran
   * to, whose "Run steps 1–N" starts a new run of the same steps (the old one stays in the history). A folder that
   * no longer scans is shown where it can be fixed: step 1. Throws the service's reason.
   */
  async loadRerun(runId: number): Promise<void> {
    const loaded = await getStudioApi().invoke('runs.rerunConfig', { runId });
    const { dir, seed, size, batchSize, validPct, dropout, backbone, balance, ...settings } = loaded.config;
    recipe.resetRun();
    recipe.state = 'idle';
    recipe.error = null;
    recipe.settings = { ...settings, seed, size, batchSize, validPct, dropout, lrFind: { ...settings.lrFind } };
    app.settings = { ...app.settings, seed, size, batchSize, validPct, dropout, backbone, balance };
    app.folder = dir;
    await app.scan();
    rerunFrom.source = { runId, dir: app.dataset?.dir ?? dir };
    app.page = app.dataset ? (STEP_PAGES[loaded.untilStep - 1] ?? 'dataset') : 'dataset';
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

// A run that ends, or one started here or elsewhere (the CLI, another window), shows up with its new status.
getStudioApi().on('run.event', (event) => {
  if (event.type === 'done') void runs.refresh();
  else if (event.type === 'progress' && !runs.loading && !runs.list.some((r) => r.id === event.runId)) {
    void runs.refresh();
  }
});
