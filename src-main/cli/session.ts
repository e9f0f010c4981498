/**
 * The core plumbing the commands share: the backend and the run history picked by --backend and --home, and Ctrl-C as a request to cancel the job that is running.
 */
import { homePaths, resolveHome } from '../core/paths';
import { existsSync, statSync } from 'node:fs';
import { RunStore } from '../core/history/runStore';
import { isUnwritable } from '../core/util/storageErrors';
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
  try {
    store.markInterrupted();
  } catch (err) {
    store.close();
    throw err;
  }
  return { paths, store };
}

/**
 * The run history for reading (listing, showing, comparing): opened like `openStore`, or where it cannot be written
 * (a read-only home, a full disk) a read-only copy of it, with a note on stderr saying so.
 */
export function openStoreForReading(home: string | undefined) {
  const paths = homePaths(resolveHome(home));
  try {
    return openStore(home);
  } catch (err) {
    if (!isUnwritable(err) || !existsSync(paths.history)) throw err;
    const store = new RunStore(paths.history, { readOnlySnapshot: true });
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const wal = existsSync(`${paths.history}-wal`) && statSync(`${paths.history}-wal`).size > 0;
    process.stderr.write(
      `note: the run history ${paths.history} cannot be written (${why}): listed from a read-only copy, nothing ` +
        `marked or changed${wal ? '; what only history.sqlite-wal holds is not shown' : ''}.\n`,
    );
    return { paths, store };
  }
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
