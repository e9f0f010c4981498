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
  if (status === 'failed') return `${what} failed`;
  return `${what} stopped (${status})`;
}

/** `payload` has passed the contract's check for `event` (the service validates every event it emits). */
export function taskbarUpdate(event: EventName, payload: unknown): TaskbarUpdate | null {
  switch (event) {
    case 'train.progress':
    case 'lrfind.progress': {
      const p = payload as EventPayload<'train.progress'>;
      return { progress: fraction(p.done, p.total) };
    }
    case 'train.done': {
      const p = payload as EventPayload<'train.done'>;
      return {
        progress: -1,
        notify: { title: doneTitle('Training', p.status), body: p.error ?? `Run #${p.runId}` },
      };
    }
    case 'lrfind.done': {
      const p = payload as EventPayload<'lrfind.done'>;
      return {
        progress: -1,
        notify: { title: doneTitle('LR range test', p.status), body: p.error ?? 'Pick a learning rate on the curve.' },
      };
    }
    case 'recipe.step': {
      const p = payload as EventPayload<'recipe.step'>;
      if (p.status !== 'done') return null;
      return { notify: { title: `Step ${p.step} finished`, body: `Recipe run #${p.runId}: ${p.name}` } };
    }
    default:
      return null;
  }
}
