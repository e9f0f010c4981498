import { app } from './app.svelte';

/** The run whose dataset, settings and seed "Run again" loaded into the wizard. */
export interface RerunSource {
  runId: number;
  dir: string;
}

/** Kept apart from the loader (runs.svelte.ts), so that the training states can read it without an import cycle. */
class RerunFrom {
  source = $state.raw<RerunSource | null>(null);
}

export const rerunFrom = new RerunFrom();

/**
 * `params` plus `rerunOf` when the wizard holds a loaded run on the same folder: the new run is then
 * recorded as a re-run of it (the source is used once). Settings changed after loading show in Compare's diff.
 */
export function withRerun<P extends object>(params: P): P & { rerunOf?: number } {
  const source = rerunFrom.source;
  const dir = app.dataset?.dir ?? app.folder.trim();
  if (!source || source.dir !== dir) return params;
  rerunFrom.source = null;
  return { ...params, rerunOf: source.runId };
}
