/**
 * Predict every image under some folders (and single files) with an exported model: listed in a stable order,
 * decoded a batch at a time, with progress; a file that cannot be read is reported with the reason and the rest go
 * on. Then, optionally, a CSV (file, label, probability, top-k, error) and copies of each image into OUT/<label>/.
 * Copies only: the source folders are never written to, and an OUT inside one (or holding one) is refused.
 */
import { englishText, type Message } from '../../../src-shared/messages';
import { copyFileSync, constants, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import {
  decodeSquare,
  englishReason,
  imageErrorMessage,
  isImageFile,
  notAnImageReason,
  thumbnailDataUrl,
} from '../data/images';
import { formatsIn, Predictor } from './predictor';
import type { ExportFormat } from './formats';

export interface FolderImage {
  /** Absolute path, read from. */
  path: string;
  /** As the caller named it: the folder they gave joined with the path inside it. */
  shown: string;
}

export interface FolderPrediction {
  file: string;
  label: string;
  probability: number;
  /** Every class, most likely first. */
  ranked: Array<{ label: string; probability: number }>;
  probabilities: Record<string, number>;
}

export interface FolderProblem {
  file: string;
  /** English (the CSV, the CLI), with the decoder's own words where there are some. */
  error: string;
  /** `error` as a code, which the app says in the user's language. */
  message: Message;
}

export interface FolderPredictions {
  predictions: FolderPrediction[];
  problems: FolderProblem[];
}

export interface PredictProgress {
  done: number;
  total: number;
}

/** Everything under `inputs` (folders walked, hidden entries skipped; files taken as given), sorted per input. */
export function listImages(inputs: string[]): { images: FolderImage[]; problems: FolderProblem[] } {
  const images: FolderImage[] = [];
  const problems: FolderProblem[] = [];
  const problem = (file: string, message: Message) =>
    problems.push({ file, error: englishText(message, 'cli'), message });
  const walk = (dir: string, shown: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.')) continue;
      const [path, s] = [join(dir, e.name), join(shown, e.name)];
      if (e.isDirectory()) walk(path, s);
      else if (isImageFile(e.name)) images.push({ path, shown: s });
      else if (e.isFile()) problem(s, notAnImageReason(e.name));
    }
  };
  for (const input of inputs) {
    const path = resolve(input);
    if (!existsSync(path)) problem(input, { code: 'useModel.notFound', params: {} });
    else if (statSync(path).isDirectory()) walk(path, input);
    else images.push({ path, shown: input });
  }
  return { images, problems };
}

export async function predictImages(
  predictor: Predictor,
  images: FolderImage[],
  options: { batchSize?: number; onProgress?: (p: PredictProgress) => void } = {},
): Promise<FolderPredictions> {
  const batchSize = options.batchSize ?? 32;
  const pixels = predictor.size * predictor.size * 3;
  const predictions: FolderPrediction[] = [];
  const problems: FolderProblem[] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const chunk = images.slice(start, start + batchSize);
    // sharp decodes on its own threads: a batch's files at once.
    const decoded = await Promise.allSettled(chunk.map((img) => decodeSquare(img.path, predictor.size)));
    const ok: Array<{ img: FolderImage; pixels: Float32Array }> = [];
    decoded.forEach((d, i) => {
      if (d.status === 'fulfilled') ok.push({ img: chunk[i]!, pixels: d.value });
      else {
        const message = imageErrorMessage(d.reason);
        problems.push({ file: chunk[i]!.shown, error: englishReason(message), message });
      }
    });
    if (ok.length) {
      const x = new Float32Array(ok.length * pixels);
      ok.forEach((o, i) => x.set(o.pixels, i * pixels));
      const rows = await predictor.score(x, ok.length);
      ok.forEach((o, i) => predictions.push(folderPrediction(predictor.labels, o.img.shown, rows[i]!)));
    }
    options.onProgress?.({ done: Math.min(images.length, start + batchSize), total: images.length });
  }
  return { predictions, problems };
}

function folderPrediction(labels: string[], file: string, row: number[]): FolderPrediction {
  const ranked = labels.map((label, j) => ({ label, probability: row[j]! }));
  ranked.sort((a, b) => b.probability - a.probability);
  return {
    file,
    label: ranked[0]!.label,
    probability: ranked[0]!.probability,
    ranked,
    probabilities: Object.fromEntries(labels.map((l, j) => [l, row[j]!])),
  };
}

const csvField = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The CSV: a row per image in listing order, the unreadable ones with an empty label and their error. */
export function predictionsCsv(r: FolderPredictions, topK: number): string {
  const lines = ['file,label,probability,top_k,error'];
  for (const p of r.predictions) {
    const top = p.ranked
      .slice(0, topK)
      .map((t) => `${t.label}:${t.probability.toFixed(6)}`)
      .join(';');
    lines.push([p.file, p.label, p.probability.toFixed(6), top, ''].map(csvField).join(','));
  }
  for (const p of r.problems) lines.push([p.file, '', '', '', p.error].map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

const inside = (child: string, parent: string) => {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
};

/** Refuse an OUT that would write into a source folder, or hold one. */
export function checkSortTarget(out: string, inputs: string[]): void {
  const target = resolve(out);
  for (const input of inputs.map((i) => resolve(i))) {
    if (existsSync(input) && statSync(input).isDirectory() && (inside(target, input) || inside(input, target))) {
      throw new Error(`--sort-into ${out} overlaps the image folder ${input}: choose a folder outside it.`);
    }
  }
}

/** Copy each predicted image to OUT/<label>/<name> (a name already there gets " (2)", " (3)"…); returns the copies. */
export function sortInto(out: string, predictions: FolderPrediction[], images: FolderImage[]): string[] {
  const byShown = new Map(images.map((i) => [i.shown, i.path]));
  const copies: string[] = [];
  for (const p of predictions) {
    const from = byShown.get(p.file)!;
    const dir = join(resolve(out), p.label.replace(/[/\\]/g, '_'));
    mkdirSync(dir, { recursive: true });
    const ext = extname(from);
    const stem = basename(from, ext);
    for (let n = 1; ; n++) {
      const to = join(dir, n === 1 ? `${stem}${ext}` : `${stem} (${n})${ext}`);
      try {
        copyFileSync(from, to, constants.COPYFILE_EXCL);
        copies.push(to);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }
  return copies;
}

export interface UseModelRequest {
  modelDir: string;
  dirs: string[];
  format?: ExportFormat;
  /** Thumbnails (data URLs) for the first this many predictions. */
  thumbnails: number;
  csvPath?: string;
}

/**
 * The app's "Use the model" page in one call: the model loaded (ONNX when the folder has it, as it is the faster
 * one), every image under `dirs` predicted, thumbnails for the first ones, and the CSV, written when asked.
 */
export async function useModelOnFolders(r: UseModelRequest) {
  const format = r.format ?? (formatsIn(r.modelDir).includes('onnx') ? 'onnx' : 'tfjs');
  const predictor = await Predictor.load(resolve(r.modelDir), { format });
  const { images, problems: listed } = listImages(r.dirs);
  let result: FolderPredictions;
  try {
    result = await predictImages(predictor, images);
  } finally {
    predictor.dispose();
  }
  const all = { predictions: result.predictions, problems: [...listed, ...result.problems] };
  const csv = predictionsCsv(all, 3);
  if (r.csvPath) writeFileSync(resolve(r.csvPath), csv);
  const predictions = [];
  for (const [i, p] of result.predictions.entries()) {
    const path = images.find((img) => img.shown === p.file)!.path;
    const thumbnail = i < r.thumbnails ? await thumbnailDataUrl(path, 96).catch(() => null) : null;
    predictions.push({ file: p.file, label: p.label, probability: p.probability, thumbnail });
  }
  return {
    format,
    labels: predictor.labels,
    predictions,
    problems: all.problems,
    csv,
    csvPath: r.csvPath ? resolve(r.csvPath) : null,
  };
}
