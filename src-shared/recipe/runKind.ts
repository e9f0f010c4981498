/**
 * What a run is, in words, decided from what it stores: the step its plan stops after (`untilStep`) and its status.
 * One function for every face (the CLI's `runs` and `runs show`, the app's history, compare and wizard), as a message
 * code each renders in its user's language (src-shared/messages).
 */
import type { Message } from '../messages';

export interface RunPlanOf {
  /** 'fastai8' (every run of this version); 'head': a head run of an older version (steps 1–3). */
  kind: string;
  status: string;
  /** The step the run's plan stops after (1–8); null: not recorded (the whole recipe). */
  untilStep: number | null;
}

/**
 * "eight steps" for the whole recipe, "head only (steps 1–3)" for a run planned to stop after step 3 (or an older
 * head run), "paused after step N" for a run paused at another step, "steps 1–N" while such a run runs or after it
 * stopped otherwise (cancelled, failed: its status says so).
 */
export function runKindMessage(run: RunPlanOf): Message {
  if (run.kind === 'head') return { code: 'runKind.headOnly', params: {} };
  const until = run.untilStep ?? 8;
  if (until >= 8) return { code: 'runKind.eightSteps', params: {} };
  if (until === 3) return { code: 'runKind.headOnly', params: {} };
  if (run.status === 'paused') return { code: 'runKind.pausedAfter', params: { step: until } };
  return { code: 'runKind.untilStep', params: { step: until } };
}
