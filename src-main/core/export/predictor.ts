/**
 * Classify images with an exported model folder, applying the preprocessing it declares: decodeSquare, as in
 * training (sharp decodes each file at full size and squareInput.ts resizes and crops it; the same squareInput, as
 * source text, runs in the export's web demo, so `finetune predict` and index.html give the same probabilities).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadModelFromDir } from '../model/modelFiles';
import { decodeSquare, describeImageError } from '../data/images';
import { z } from 'zod';
import { readJsonFile } from '../util/json';
import { IO_CONCURRENCY, mapPool } from '../util/pool';

export interface PredictionResult {
  file: string;
  label: string;
  probabilities: Record<string, number>;
}

/** The parts of an export's ensemble.json and preprocessing.json that loading needs. */
const ExportedEnsemble = z.object({ members: z.array(z.string()).min(1) });
const ExportedPreprocessing = z.object({ inputSize: z.number().int().positive() });

/** The model input for `files`: [n, size, size, 3] in [0, 1]. */
export async function predictInput(files: string[], size: number): Promise<tf.Tensor4D> {
  const pixels = size * size * 3;
  const flat = new Float32Array(files.length * pixels);
  await mapPool(files, IO_CONCURRENCY, async (file, i) => flat.set(await decodeSquare(file, size), i * pixels));
  return tf.tensor4d(flat, [files.length, size, size, 3]);
}

export class Predictor {
  private constructor(
    /** One model, or the members of a snapshot ensemble whose probabilities are averaged. */
    private readonly models: tf.LayersModel[],
    readonly labels: string[],
    readonly size: number,
  ) {}

  static async load(dir: string): Promise<Predictor> {
    const fix = `Export the model again into ${dir}.`;
    const ensemblePath = join(dir, 'ensemble.json');
    const memberDirs = existsSync(ensemblePath)
      ? readJsonFile(ensemblePath, ExportedEnsemble, fix).members.map((m) => join(dir, m))
      : [dir];
    const models = await Promise.all(memberDirs.map((d) => loadModelFromDir(d)));
    const labels = readJsonFile(join(dir, 'labels.json'), z.array(z.string()).min(1), fix);
    const pre = readJsonFile(join(dir, 'preprocessing.json'), ExportedPreprocessing, fix);
    return new Predictor(models, labels, pre.inputSize);
  }

  /** Predict in batches; unreadable files raise an error naming the file. */
  async predict(files: string[], batchSize = 16): Promise<PredictionResult[]> {
    const out: PredictionResult[] = [];
    for (let start = 0; start < files.length; start += batchSize) {
      const chunk = files.slice(start, start + batchSize);
      let x: tf.Tensor4D;
      try {
        x = await predictInput(chunk, this.size);
      } catch {
        // Find the culprit for a clear message.
        for (const f of chunk) {
          await predictInput([f], this.size).then(
            (t) => t.dispose(),
            (err: unknown) => {
              throw new Error(`Cannot read ${f}: ${describeImageError(err)}`);
            },
          );
        }
        throw new Error(`Cannot read one of: ${chunk.join(', ')}`);
      }
      const probs = tf.tidy(() => tf.addN(this.models.map((m) => m.predict(x) as tf.Tensor)).div(this.models.length));
      const flat = (await probs.data()) as Float32Array;
      tf.dispose([x, probs]);
      const k = this.labels.length;
      chunk.forEach((file, i) => {
        const row = Array.from(flat.slice(i * k, (i + 1) * k));
        const best = row.indexOf(Math.max(...row));
        out.push({
          file,
          label: this.labels[best]!,
          probabilities: Object.fromEntries(this.labels.map((l, j) => [l, row[j]!])),
        });
      });
    }
    return out;
  }

  dispose() {
    for (const m of this.models) m.dispose();
  }
}
