/**
 * How often a progress bar speaks to screen readers: its polite live region changes only when the percentage
 * crosses a step (10 % by default), not on every batch.
 */
export function announcement(fraction: number, step = 10): number {
  if (!Number.isFinite(fraction)) return 0;
  const percent = Math.min(100, Math.max(0, fraction * 100));
  return Math.floor(percent / step + 1e-9) * step;
}
