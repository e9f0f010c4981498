/**
 * Is a picked learning rate past the minimum of the range test's loss? Right of the minimum the loss is already
 * rising: training there tends to diverge (the article's rule is to pick left of the minimum, about ten times lower).
 * Pure, so that steps 2 and 3 and the unit tests share it.
 */

/** The LR at the lowest finite loss of the curve (first on ties), or null when no point is finite. */
export function lrAtMinimum(lrs: readonly number[], losses: readonly (number | null)[]): number | null {
  let best: number | null = null;
  let bestLoss = Infinity;
  const n = Math.min(lrs.length, losses.length);
  for (let i = 0; i < n; i++) {
    const loss = losses[i];
    const lr = lrs[i]!;
    if (loss === null || loss === undefined || !Number.isFinite(loss) || !Number.isFinite(lr)) continue;
    if (loss < bestLoss) {
      bestLoss = loss;
      best = lr;
    }
  }
  return best;
}

/**
 * The LR at the curve's minimum when `pick` lies right of it (a larger LR), else null. `losses` is the curve the
 * suggestions come from (the smoothed training loss, or the validation loss when the test recorded it). `minIndex`
 * is the range test's own minimum (the one the plot marks: fastai's rules skip the noisy first tenth and the last
 * points, where a curve that never blew up can still be falling); without it, the lowest finite point.
 */
export function pastMinimum(
  lrs: readonly number[],
  losses: readonly (number | null)[],
  pick: number,
  minIndex: number | null = null,
): number | null {
  const marked = minIndex !== null ? lrs[minIndex] : undefined;
  const minLr = marked !== undefined && Number.isFinite(marked) ? marked : lrAtMinimum(lrs, losses);
  if (minLr === null || !Number.isFinite(pick)) return null;
  return pick > minLr ? minLr : null;
}
