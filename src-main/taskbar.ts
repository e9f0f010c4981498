/**
 * What the desktop shows outside the window while a job runs: the taskbar / dock progress and, when a long job ends
 * while the window is in the background, a notification in the wizard's language (the renderer tells the service,
 * `app.setLanguage`). Plain data from the service's pushed events (no Electron import), so a unit test under Node
 * reads exactly what the Electron entry applies.
 */
import type { EventName, EventPayload, UiLanguage } from '../src-shared/contract';
import { englishText, interpolate, type Message } from '../src-shared/messages';
// The renderer's Arabic catalog of coded messages: the notifications are the one place main speaks to the user.
import arabic from '../src-shared/messages/ar.json';

export interface TaskbarUpdate {
  /** 0…1 while a job runs; -1 removes the bar. */
  progress?: number;
  /** Shown only when the window is not focused. */
  notify?: { title: string; body: string };
}

const fraction = (done: number, total: number): number => (total > 0 ? Math.min(1, Math.max(0, done / total)) : 0);

/** A message in `language`: the Arabic catalog's text with each text parameter in a bidi isolate, else English. */
export function notificationText(message: Message, language: UiLanguage): string {
  if (language !== 'ar') return englishText(message);
  let node: unknown = arabic;
  for (const part of message.code.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  if (typeof node !== 'string') return englishText(message);
  const isolated = Object.entries(message.params).map(([k, v]) => [k, typeof v === 'string' ? `\u2068${v}\u2069` : v]);
  return interpolate(node, Object.fromEntries(isolated) as Message['params']);
}

function doneTitle(status: string): Message {
  if (status === 'completed') return { code: 'notify.trainingFinished', params: {} };
  if (status === 'paused') return { code: 'notify.trainingPaused', params: {} };
  if (status === 'failed') return { code: 'notify.trainingFailed', params: {} };
  return { code: 'notify.trainingStopped', params: {} };
}

/** `payload` has passed the contract's check for `event` (the service validates every event it emits). */
export function taskbarUpdate(event: EventName, payload: unknown, language: UiLanguage = 'en'): TaskbarUpdate | null {
  if (event !== 'run.event') return null;
  const e = payload as EventPayload<'run.event'>;
  const say = (m: Message) => notificationText(m, language);
  switch (e.type) {
    case 'progress':
      return { progress: fraction(e.done, e.total) };
    case 'done':
      return {
        progress: -1,
        // A failure's own text is the service's English (not coded): shown as it is.
        notify: {
          title: say(doneTitle(e.status)),
          body: e.error ?? say({ code: 'notify.run', params: { runId: e.runId } }),
        },
      };
    case 'step':
      if (e.status !== 'done') return null;
      return {
        notify: {
          title: say({ code: 'notify.stepFinished', params: { step: e.step } }),
          body: say({ code: 'notify.stepOfRun', params: { runId: e.runId, name: e.name } }),
        },
      };
    default:
      return null;
  }
}
