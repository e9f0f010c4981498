/**
 * Classify images with an exported model folder, applying the preprocessing it declares: decodeSquare, as in
 * training (sharp decodes each file at full size and squareInput.ts resizes and crops it; the same squareInput, as
 * source text, runs in the export's web demo, so `finetune predict` and index.html give the same probabilities).
 *
 * Either format of the folder runs it: the TF.js model (or an ensemble's members, averaged here) or model.onnx
 * through onnxruntime-node (onnxScorer.ts; an ensemble's graph averages its members itself). A folder holding both
 * uses TF.js unless `format` says 'onnx'.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadModelFromDir } from '../model/modelFiles';
import { decodeSquare, describeImageError } from '../data/images';
import { z } from 'zod';
import { readJsonFile } from '../util/json';
import { IO_CONCURRENCY, mapPool } from '../util/pool';
import { ONNX_FILE } from './onnx/onnxModel';
import { loadOnnxScorer, type Scorer } from './onnxScorer';
import type { ExportFormat } from './formats';

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

/** One TF.js model, or the members of a snapshot ensemble whose probabilities are averaged. */
async function loadTfjsScorer(dir: string, size: number, fix: string): Promise<Scorer> {
  const ensemblePath = join(dir, 'ensemble.json');
  const memberDirs = existsSync(ensemblePath)
    ? readJsonFile(ensemblePath, ExportedEnsemble, fix).members.map((m) => join(dir, m))
    : [dir];
  const models = await Promise.all(memberDirs.map((d) => loadModelFromDir(d)));
  return {
    async score(flat, n) {
      const x = tf.tensor4d(flat, [n, size, size, 3]);
      const probs = tf.tidy(() => tf.addN(models.map((m) => m.predict(x) as tf.Tensor)).div(models.length));
      const out = (await probs.data()) as Float32Array;
      tf.dispose([x, probs]);
      return out;
    },
    dispose: () => models.forEach((m) => m.dispose()),
  };
}

/** The formats `dir` holds: TF.js (model.json or ensemble.json) and ONNX (model.onnx). */
export function formatsIn(dir: string): ExportFormat[] {
  const tfjs = existsSync(join(dir, 'model.json')) || existsSync(join(dir, 'ensemble.json'));
  return [...(tfjs ? (['tfjs'] as const) : []), ...(existsSync(join(dir, ONNX_FILE)) ? (['onnx'] as const) : [])];
}

export class Predictor {
  private constructor(
    private readonly scorer: Scorer,
    readonly labels: string[],
    readonly size: number,
    /** The format that runs it. */
    readonly format: ExportFormat,
  ) {}

  static async load(dir: string, options: { format?: ExportFormat } = {}): Promise<Predictor> {
    const fix = `Export the model again into ${dir}.`;
    const held = formatsIn(dir);
    if (held.length === 0) {
      throw new Error(
        `Cannot read a model from ${dir}: it has no model.json, ensemble.json or ${ONNX_FILE}. ` +
          'Point at a folder made by "finetune export".',
      );
    }
    const labels = readJsonFile(join(dir, 'labels.json'), z.array(z.string()).min(1), fix);
    const pre = readJsonFile(join(dir, 'preprocessing.json'), ExportedPreprocessing, fix);
    const format = options.format ?? (held.includes('onnx') && !held.includes('tfjs') ? 'onnx' : 'tfjs');
    if (format === 'onnx' && !held.includes('onnx')) {
      throw new Error(`${dir} has no ${ONNX_FILE}: export the run with --format onnx, or predict with --format tfjs.`);
    }
    const scorer =
      format === 'onnx'
        ? await loadOnnxScorer(join(dir, ONNX_FILE), pre.inputSize, labels.length)
        : await loadTfjsScorer(dir, pre.inputSize, fix);
    return new Predictor(scorer, labels, pre.inputSize, format);
  }

  /** [n, size, size, 3] inputs (decodeSquare's, concatenated) → one row of probabilities per image. */
  async score(x: Float32Array, n: number): Promise<number[][]> {
    const flat = await this.scorer.score(x, n);
    const k = this.labels.length;
    return Array.from({ length: n }, (_, i) => Array.from(flat.subarray(i * k, (i + 1) * k)));
  }

  /** A row of probabilities as a result: the best label and every class's probability. */
  result(file: string, row: number[]): PredictionResult {
    const best = row.indexOf(Math.max(...row));
    return {
      file,
      label: this.labels[best]!,
      probabilities: Object.fromEntries(this.labels.map((l, j) => [l, row[j]!])),
    };
  }

  /** Predict in batches; unreadable files raise an error naming the file (predictFolder.ts reports them instead). */
  async predict(files: string[], batchSize = 16): Promise<PredictionResult[]> {
    const out: PredictionResult[] = [];
    const pixels = this.size * this.size * 3;
    for (let start = 0; start < files.length; start += batchSize) {
      const chunk = files.slice(start, start + batchSize);
      const flat = new Float32Array(chunk.length * pixels);
      for (const [i, f] of chunk.entries()) {
        try {
          flat.set(await decodeSquare(f, this.size), i * pixels);
        } catch (err) {
          throw new Error(`Cannot read ${f}: ${describeImageError(err)}`, { cause: err });
        }
      }
      const rows = await this.score(flat, chunk.length);
      chunk.forEach((file, i) => out.push(this.result(file, rows[i]!)));
    }
    return out;
  }

  dispose() {
    this.scorer.dispose();
  }
}
