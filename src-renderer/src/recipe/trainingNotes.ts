/**
 * Warnings that teach, read off a training step's live series: the training loss rising right after an SGDR restart
 * (expected: the LR jumped back to its maximum) and overfitting (the validation loss rising for epochs while the
 * training loss falls). Pure functions over plain arrays, so they can be tested on hand-made series.
 */

/** A rise of the training loss right after a restart. */
export interface RestartRise {
  /** The cycle that the restart starts (2 for the first restart). */
  cycle: number;
  /** The number of batches seen when the restart happened (the previous cycle's last batch). */
  iteration: number;
  /** Mean training loss of the `window` batches before and after the restart. */
  before: number;
  after: number;
}

function mean(values: readonly (number | null)[]): number | null {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return finite.length === 0 ? null : finite.reduce((a, v) => a + v, 0) / finite.length;
}

/**
 * The restarts after which the training loss rose: the mean loss of the `window` batches after the restart is more
 * than `minRise` (relative) above the mean of the `window` batches before it. `restartIterations` are the batch
 * counts at which cycles ended and the LR restarted (not the end of the last cycle); a restart is judged only once
 * a full window after it exists. The window shrinks to fit short cycles (half the distance to a neighbouring
 * restart, at least one batch).
 */
export function lossRisesAfterRestarts(
  loss: readonly (number | null)[],
  restartIterations: readonly number[],
  window = 10,
  minRise = 0.01,
): RestartRise[] {
  const out: RestartRise[] = [];
  const points = [0, ...restartIterations];
  restartIterations.forEach((at, k) => {
    const prev = points[k] ?? 0;
    const next = restartIterations[k + 1] ?? Infinity;
    const w = Math.max(1, Math.min(window, Math.floor((at - prev) / 2) || 1, Math.floor((next - at) / 2) || 1));
    if (at - w < 0 || at + w > loss.length) return;
    const before = mean(loss.slice(at - w, at));
    const after = mean(loss.slice(at, at + w));
    if (before === null || after === null) return;
    if (after > before * (1 + minRise)) out.push({ cycle: k + 2, iteration: at, before, after });
  });
  return out;
}

/** The batch counts at which an SGDR run restarted: the x of every epoch that ended a cycle but the last cycle. */
export function restartIterations(epochs: readonly { x: number }[], cycleEndEpochs: readonly number[]): number[] {
  const ends = cycleEndEpochs.slice(0, -1);
  return epochs.flatMap((e, i) => (ends.includes(i + 1) ? [e.x] : []));
}

/** Overfitting seen on the epochs: when it started and which epoch had the lowest validation loss (1-based). */
export interface Overfitting {
  /** The first and last epoch of the longest latest run of rising validation loss (the epoch before it is `from - 1`). */
  from: number;
  to: number;
  /** Epochs in that run. */
  epochs: number;
  /** The epoch with the lowest validation loss: the best checkpoint. */
  bestEpoch: number;
}

/**
 * Overfitting: the validation loss rose for at least `minEpochs` epochs in a row while the training loss fell over
 * the same epochs. The latest such run is reported, with the epoch of the lowest validation loss (the first of
 * equals). Null when there is none, or when a loss is not finite. With SGDR (`cycleEndEpochs`, 1-based), an epoch
 * that follows a restart and does not end its own cycle was validated at a high LR: its rise is the restart's, not
 * overfitting, and it breaks a run of rises.
 */
export function detectOverfitting(
  epochs: readonly { trainLoss: number; validLoss: number }[],
  minEpochs = 2,
  cycleEndEpochs: readonly number[] = [],
): Overfitting | null {
  const afterRestart = (epoch: number) => cycleEndEpochs.includes(epoch - 1) && !cycleEndEpochs.includes(epoch);
  let found: { from: number; to: number } | null = null;
  let runStart: number | null = null;
  for (let i = 1; i < epochs.length; i++) {
    const prev = epochs[i - 1]!;
    const cur = epochs[i]!;
    const finite = [prev.trainLoss, prev.validLoss, cur.trainLoss, cur.validLoss].every(Number.isFinite);
    const overfits = finite && !afterRestart(i + 1) && cur.validLoss > prev.validLoss && cur.trainLoss < prev.trainLoss;
    if (overfits) {
      runStart ??= i;
      if (i - runStart + 1 >= minEpochs) found = { from: runStart + 1, to: i + 1 };
    } else runStart = null;
  }
  if (found === null) return null;
  let best = 0;
  epochs.forEach((e, i) => {
    if (e.validLoss < epochs[best]!.validLoss) best = i;
  });
  return { ...found, epochs: found.to - found.from + 1, bestEpoch: best + 1 };
}
