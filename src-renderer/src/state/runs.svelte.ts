import type { RunSummary } from '../../../src-shared/contract';
import { errorMessage, getStudioApi } from '../api';

/** The run history (`runs.list`), refreshed on demand, when a run the list does not have yet reports, and when one ends. */
class RunsState {
  list = $state.raw<RunSummary[]>([]);
  loading = $state(false);
  loaded = $state(false);
  error = $state<string | null>(null);

  async refresh(): Promise<void> {
    this.loading = true;
    try {
      const list = await getStudioApi().invoke('runs.list', {});
      this.list = [...list].sort((a, b) => b.id - a.id);
      this.error = null;
      this.loaded = true;
    } catch (error) {
      this.error = errorMessage(error);
    } finally {
      this.loading = false;
    }
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
