/**
 * Human-readable durations for the run-time estimate. No imports: the renderer bundles this file, and it must not
 * pull TensorFlow.js in with it.
 */

/** "<1 s", "42 s", "1 min 20 s", "6 min", "1 h 5 min". */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0.5) return '<1 s';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const rest = s % 60;
    // Past ten minutes the seconds are noise next to the estimate's error.
    return rest === 0 || s >= 600 ? `${Math.round(s / 60)} min` : `${Math.floor(s / 60)} min ${rest} s`;
  }
  const minutes = Math.round(s / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${Math.floor(minutes / 60)} h` : `${Math.floor(minutes / 60)} h ${rest} min`;
}

export interface StepSecondsLike {
  step: number;
  seconds: number;
}

/** "about 6 min (step 7: 1 min 20 s, step 8: 3 min 10 s)": steps under a second are left out. */
export function formatEstimateLine(steps: readonly StepSecondsLike[], totalSeconds: number): string {
  const parts = steps.filter((s) => s.seconds >= 0.5).map((s) => `step ${s.step}: ${formatSeconds(s.seconds)}`);
  return `about ${formatSeconds(totalSeconds)}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
