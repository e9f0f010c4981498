/**
 * Fault injection for the fault tests, off unless FINETUNE_FAULT is set (never in normal use). The value is
 * `POINT` or `POINT:N`: the fault fires the Nth time (default 1st) this process reaches POINT. Points:
 * - `checkpoint-write`: SIGKILL with the checkpoint's temporary folder half written (state.json cut short);
 * - `checkpoint-swap`: SIGKILL between the checkpoint's two renames (only `checkpoint.old` holds the last one);
 * - `checkpoint-write-error`: the checkpoint write fails as on a full disk (ENOSPC);
 * - `cleaner-after-intent`, `cleaner-after-link`, `cleaner-after-move`: SIGKILL inside a cleaner move (cleaner.ts):
 *   its journal entry written but the file not linked, linked but not unlinked, moved but the entry not confirmed.
 * A test hook has to hit a window a few milliseconds wide deterministically; a signal from outside cannot.
 */
const hits = new Map<string, number>();

/** Whether the fault named by FINETUNE_FAULT fires at `point` now (counts the visits to `point`). */
export function faultAt(point: string): boolean {
  const spec = process.env.FINETUNE_FAULT;
  if (!spec) return false;
  const [name, nth] = spec.split(':');
  if (name !== point) return false;
  const n = (hits.get(point) ?? 0) + 1;
  hits.set(point, n);
  return n === (nth === undefined ? 1 : Number(nth));
}

/** Ends this process at once, as `kill -9` would: no exit handlers, no flushing. */
export function killSelf(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL is delivered before kill() returns on Linux and macOS; this only satisfies the type.
  throw new Error('SIGKILL did not end the process');
}

/** The error a write to a full disk raises, for `checkpoint-write-error`. */
export function injectedDiskFull(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, write '${path}' (injected by FINETUNE_FAULT)`), {
    code: 'ENOSPC',
    path,
  });
}
