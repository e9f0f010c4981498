/**
 * Which folders an export may replace. `--force` (the app's "Replace an earlier export in that folder") replaces only
 * a folder that is recognisably an earlier export (its metadata.json says `finetune-studio-export`), and never the
 * app's home, a run folder (anything in HOME/runs), a dataset folder any run recorded, or a folder holding any of them.
 *
 * Folders are compared by identity (device and inode of the real folder), not by spelling, so a symlink, `..`, a
 * trailing slash or another letter case on a case-insensitive disk cannot make one folder look like another.
 */
import type { Message, MessageCode } from '../../../src-shared/messages';
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

/** The export's metadata.json `format`: what marks a folder as one an export wrote. */
export const EXPORT_FORMAT = 'finetune-studio-export';

export interface ExportGuard {
  /** The app's home: neither it nor a folder holding it is replaced. */
  home: string;
  /** HOME/runs: nothing in it (a run folder or part of one) is replaced, nor a folder holding it. */
  runs: string;
  /** Every dataset folder a run recorded: neither it nor a folder holding it is replaced. */
  datasets: string[];
}

/** The guard for `home` and its `runsDir`, given the history's runs (their `dir` and recorded dataset `dir`). */
export function exportGuardFor(home: string, runsDir: string, runs: Array<{ dir: string; dataset: unknown }>) {
  const datasets = new Set<string>();
  for (const r of runs) {
    if (r.dir) datasets.add(r.dir);
    const recorded = (r.dataset as { dir?: unknown } | null)?.dir;
    if (typeof recorded === 'string' && recorded) datasets.add(recorded);
  }
  return { home, runs: runsDir, datasets: [...datasets] } satisfies ExportGuard;
}

/** A folder's identity (device + inode, following links), or null when it does not exist. */
function identity(path: string): string | null {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/** The identities of `path` and of every folder above it (following links: the real folders). */
function selfAndAncestors(path: string): Set<string> {
  const ids = new Set<string>();
  let p = resolve(path);
  for (;;) {
    const id = identity(p);
    if (id) ids.add(id);
    const up = dirname(p);
    if (up === p) return ids;
    p = up;
  }
}

/** The nearest existing folder at or above `path` (a folder about to be created sits in it). */
function nearestExisting(path: string): string {
  let p = resolve(path);
  while (identity(p) === null && dirname(p) !== p) p = dirname(p);
  return p;
}

/**
 * Why `target` must not be replaced by an export (an `export.*` code; `kept`: the folder it would destroy), or null
 * when the guard allows it.
 */
export function guardRefusal(target: string, guard: ExportGuard): Message | null {
  const id = identity(target);
  const keep: Array<{ path: string; is: MessageCode; holds: MessageCode }> = [
    { path: guard.home, is: 'export.isHome', holds: 'export.holdsHome' },
    ...guard.datasets.map((d) => ({ path: d, is: 'export.isDataset' as const, holds: 'export.holdsDataset' as const })),
  ];
  if (id !== null) {
    for (const k of keep) {
      if (selfAndAncestors(k.path).has(id))
        return { code: identity(k.path) === id ? k.is : k.holds, params: { kept: k.path } };
    }
    if (selfAndAncestors(guard.runs).has(id)) return { code: 'export.holdsRuns', params: { kept: guard.runs } };
  }
  const runsId = identity(guard.runs);
  if (runsId !== null && selfAndAncestors(nearestExisting(target)).has(runsId))
    return { code: 'export.insideRuns', params: { kept: guard.runs } };
  return null;
}

/** Whether `dir` is an earlier export: a regular metadata.json whose format is the export's. */
export function isPreviousExport(dir: string): boolean {
  const path = resolve(dir, 'metadata.json');
  try {
    if (!lstatSync(path).isFile()) return false;
    const meta = JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown } | null;
    return meta?.format === EXPORT_FORMAT;
  } catch {
    return false;
  }
}

/** An export folder the app was given (`model.export`'s outDir): absolute as given, relative under `base`. */
export function exportDirUnder(base: string, outDir: string): string {
  return isAbsolute(outDir) ? resolve(outDir) : resolve(base, outDir);
}
