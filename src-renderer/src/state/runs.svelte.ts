import type { RunSummary } from '../../../src-shared/contract';
import { errorMessage, getStudioApi } from '../api';

/** The run history (`runs.list`), refreshed on demand and whenever a training run ends. */
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
