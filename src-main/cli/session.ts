/**
 * The core plumbing the commands share: the backend and the run history picked by --backend and --home, and Ctrl-C as a request to cancel the job that is running.
 */
import { homePaths, resolveHome } from '../core/paths';
import { RunStore } from '../core/history/runStore';
import { initBackend, type BackendInfo } from '../core/tf/backend';
import { resolveBackendChoice } from '../core/settings';

interface HomeOptions {
  home?: string;
  backend?: string;
}

/** The backend --backend (or FINETUNE_BACKEND, or the settings in --home) asks for. */
export function startBackend(values: HomeOptions): Promise<BackendInfo> {
  return initBackend(resolveBackendChoice(values.backend, resolveHome(values.home)));
}

/** The run history in --home; runs left 'running' by a process that is gone are marked interrupted. */
export function openStore(home: string | undefined) {
  const paths = homePaths(resolveHome(home));
  const store = new RunStore(paths.history);
  // A damaged history was moved aside and a new one started: say so before anything else.
  if (store.notice) process.stderr.write(`warning: ${store.notice}\n`);
  store.markInterrupted();
  return { paths, store };
}

/**
 * Runs `job`; Ctrl-C (SIGINT) or SIGTERM while it runs makes `shouldCancel` true (the job stops at its next check
 * and keeps its checkpoint) instead of exiting. A second signal ends the process at once.
 */
export async function cancellable<T>(job: (shouldCancel: () => boolean) => Promise<T>): Promise<T> {
  let cancelled = false;
  const onSignal = () => (cancelled = true);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await job(() => cancelled);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The last line of a run: "run 3 completed", "run 3 failed: out of memory". */
export function runStatusLine(runId: number, result: { status: string; error?: string | null }): string {
  return `run ${runId} ${result.status}${result.error ? `: ${result.error}` : ''}`;
}
