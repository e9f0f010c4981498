/**
 * What the desktop shows outside the window while a job runs: the taskbar / dock progress and, when a long job ends
 * while the window is in the background, a notification. Plain data from the service's pushed events (no Electron
 * import), so a unit test under Node reads exactly what the Electron entry applies.
 */
import type { EventName, EventPayload } from '../src-shared/contract';

export interface TaskbarUpdate {
  /** 0…1 while a job runs; -1 removes the bar. */
  progress?: number;
  /** Shown only when the window is not focused. */
  notify?: { title: string; body: string };
}

const fraction = (done: number, total: number): number => (total > 0 ? Math.min(1, Math.max(0, done / total)) : 0);

function doneTitle(what: string, status: string): string {
  if (status === 'completed') return `${what} finished`;
  if (status === 'paused') return `${what} paused`;
  if (status === 'failed') return `${what} failed`;
  return `${what} stopped (${status})`;
}

/** `payload` has passed the contract's check for `event` (the service validates every event it emits). */
export function taskbarUpdate(event: EventName, payload: unknown): TaskbarUpdate | null {
  if (event !== 'run.event') return null;
  const e = payload as EventPayload<'run.event'>;
  switch (e.type) {
    case 'progress':
      return { progress: fraction(e.done, e.total) };
    case 'done':
      return {
        progress: -1,
        notify: { title: doneTitle('Training', e.status), body: e.error ?? `Run #${e.runId}` },
      };
    case 'step':
      if (e.status !== 'done') return null;
      return { notify: { title: `Step ${e.step} finished`, body: `Run #${e.runId}: ${e.name}` } };
    default:
      return null;
  }
}
