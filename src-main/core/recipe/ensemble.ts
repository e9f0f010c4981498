/** Snapshot ensembles (Huang et al. 2017): average the class probabilities of the last K cycle snapshots. */

/** Element-wise mean of several models' probabilities: `probs[model][item]` → `[item]`. */
export function averageProbabilities(probs: readonly Float32Array[][]): Float32Array[] {
  if (probs.length === 0) return [];
  return probs[0]!.map((_, item) => {
    const out = new Float32Array(probs[0]![item]!.length);
    for (const model of probs) model[item]!.forEach((p, k) => (out[k] += p / probs.length));
    return out;
  });
}

export function argMax(p: Float32Array): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
  return best;
}

export function accuracyOf(probs: readonly Float32Array[], labels: readonly number[]): number {
  const hits = probs.filter((p, i) => argMax(p) === labels[i]).length;
  return hits / Math.max(1, probs.length);
}

/** The snapshots an ensemble of size k uses: the last k, oldest first. */
export function lastSnapshots<T>(snapshots: readonly T[], k: number): T[] {
  return snapshots.slice(Math.max(0, snapshots.length - k));
}
