/**
 * The data cleaner behind the contract (`clean.*`): the folder is always the dataset of a recorded run, so the
 * renderer names a run, never a folder, and the cleaner moves files only inside that folder (core/data/cleaner.ts).
 */
import type { Handlers } from '../../src-shared/contract';
import { exclude, readJournal, relabel, undoLast } from '../core/data/cleaner';
import type { RunStore } from '../core/history/runStore';

type CleanerHandlers = Pick<Handlers, 'clean.list' | 'clean.relabel' | 'clean.exclude' | 'clean.undo'>;

/** `store`: the service's history (a getter: the handlers are built before the service's constructor sets it). */
export function cleanerHandlers(history: () => RunStore): CleanerHandlers {
  const datasetOf = (runId: number): string => {
    const run = history().getRun(runId);
    if (!run) throw new Error(`No run ${runId} in the history.`);
    return run.dir;
  };
  /** Files do not move under a run that is reading them. */
  const movable = (runId: number): string => {
    const dir = datasetOf(runId);
    const busy = history()
      .listRuns()
      .find((r) => r.status === 'running' && r.dir === dir);
    if (busy) throw new Error(`Run ${busy.id} is training on ${dir}: wait for it to end before moving images.`);
    return dir;
  };
  const state = (dir: string) => ({ dir, entries: readJournal(dir) });
  return {
    'clean.list': async ({ runId }) => state(datasetOf(runId)),
    'clean.relabel': async ({ runId, file, toClass }) => {
      const dir = movable(runId);
      relabel(dir, file, toClass);
      return state(dir);
    },
    'clean.exclude': async ({ runId, file }) => {
      const dir = movable(runId);
      exclude(dir, file);
      return state(dir);
    },
    'clean.undo': async ({ runId }) => {
      const dir = movable(runId);
      const undone = undoLast(dir);
      return { ...state(dir), undone: undone?.undone ?? null };
    },
  };
}
