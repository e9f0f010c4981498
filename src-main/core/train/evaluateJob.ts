/** Evaluate a trained run on its validation images (same split as training), one prediction per image. */
import { join, relative } from 'node:path';
import type { HeadTrainConfig } from '../../../src-shared/contract';
import { scanDataset } from '../data/dataset';
import { exportRun } from '../export/exporter';
import { Predictor } from '../export/predictor';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

export interface EvaluationResult {
  accuracy: number;
  predictions: Array<{ file: string; actual: string; label: string; probabilities: Record<string, number> }>;
}

export async function evaluateRunJob(
  runId: number,
  runDir: string,
  config: HeadTrainConfig,
): Promise<EvaluationResult> {
  const ds = await scanDataset(config.dir, { seed: config.seed, validPct: config.validPct });
  // Evaluate through exactly what export writes, so the app and `finetune predict` can never disagree.
  const tmp = mkdtempSync(join(tmpdir(), 'finetune-eval-'));
  try {
    await exportRun(runId, runDir, tmp, { formats: ['tfjs'] });
    const predictor = await Predictor.load(tmp);
    try {
      const results = await predictor.predict(ds.valid.map((i) => i.file));
      const predictions = results.map((r, i) => ({
        ...r,
        file: relative(ds.dir, r.file),
        actual: ds.classes[ds.valid[i]!.label]!,
      }));
      const correct = predictions.filter((p) => p.label === p.actual).length;
      return { accuracy: correct / Math.max(1, predictions.length), predictions };
    } finally {
      predictor.dispose();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
