/**
 * Interpretation of a classifier's validation predictions, as fastai's ClassificationInterpretation: confusion
 * matrix, per-class precision/recall/F1, top losses, and the items behind one confusion-matrix cell. Pure (no tf).
 */

export interface PredictedItem {
  file: string;
  /** Index of the true class. */
  actual: number;
  /** Softmax output, one entry per class. */
  probabilities: number[];
}

export interface LossItem {
  file: string;
  actual: number;
  predicted: number;
  /** Probability of the predicted class. */
  probability: number;
  /** Probability given to the true class. */
  actualProbability: number;
  /** Cross-entropy −log(p_actual + 1e-7), as the training loss computes it. */
  loss: number;
}

export interface ClassMetrics {
  class: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of items whose true class this is. */
  support: number;
}

/** Index of the largest value; the first one on ties, like tf.argMax and numpy. */
export function argMax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function checkClass(label: number, numClasses: number, what: string): void {
  if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
    throw new RangeError(`${what} class ${label} is outside 0..${numClasses - 1}`);
  }
}

/** Counts[actual][predicted]: rows are true classes, columns predictions. */
export function confusionMatrix(actual: readonly number[], predicted: readonly number[], numClasses: number) {
  if (actual.length !== predicted.length) {
    throw new RangeError(`${actual.length} actual labels but ${predicted.length} predictions`);
  }
  const matrix: number[][] = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  actual.forEach((a, i) => {
    const p = predicted[i]!;
    checkClass(a, numClasses, 'actual');
    checkClass(p, numClasses, 'predicted');
    matrix[a]![p]!++;
  });
  return matrix;
}

/** Per-class precision, recall, F1 and support; an undefined ratio (nothing predicted / no items) counts as 0. */
export function perClassMetrics(matrix: readonly (readonly number[])[], classes: readonly string[]): ClassMetrics[] {
  const ratio = (num: number, den: number) => (den > 0 ? num / den : 0);
  return classes.map((name, c) => {
    const tp = matrix[c]?.[c] ?? 0;
    const support = (matrix[c] ?? []).reduce((s, v) => s + v, 0);
    const predictedAs = matrix.reduce((s, row) => s + (row[c] ?? 0), 0);
    const precision = ratio(tp, predictedAs);
    const recall = ratio(tp, support);
    return { class: name, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
}

export function toLossItem(item: PredictedItem): LossItem {
  const predicted = argMax(item.probabilities);
  const actualProbability = item.probabilities[item.actual] ?? 0;
  return {
    file: item.file,
    actual: item.actual,
    predicted,
    probability: item.probabilities[predicted] ?? 0,
    actualProbability,
    loss: -Math.log(actualProbability + 1e-7),
  };
}

const byLossDesc = (a: LossItem, b: LossItem) => b.loss - a.loss;

/** The k items with the highest loss, worst first (ties keep the input order). */
export function topLosses(items: readonly PredictedItem[], k: number): LossItem[] {
  return items.map(toLossItem).sort(byLossDesc).slice(0, Math.max(0, k));
}

/** The items in one confusion-matrix cell (true `actual`, predicted `predicted`), worst first, for clicking a cell. */
export function cellItems(items: readonly PredictedItem[], actual: number, predicted: number): LossItem[] {
  return items
    .filter((it) => it.actual === actual)
    .map(toLossItem)
    .filter((it) => it.predicted === predicted)
    .sort(byLossDesc);
}
