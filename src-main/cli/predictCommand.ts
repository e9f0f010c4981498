/**
 * `finetune predict MODEL_DIR PATH... [--csv FILE] [--sort-into OUT] [--format onnx|tfjs] [--top-k K] [--json]`:
 * every image under the folders (and the files) given, in batches with a progress bar on stderr. Unreadable files
 * are reported and the rest go on (exit 0). Without --json and --csv it prints one line per image.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Predictor } from '../core/export/predictor';
import { EXPORT_FORMATS, type ExportFormat } from '../core/export/formats';
import { checkSortTarget, listImages, predictImages, predictionsCsv, sortInto } from '../core/export/predictFolder';
import { COMMON_OPTIONS, INTEGER, num, parseOptions, stringOptions, UsageError, type Io } from './args';
import { ProgressLine } from './progress';
import { startBackend } from './session';

export async function predictCommand(argv: string[], io: Io) {
  const { values, positionals } = parseOptions(argv, {
    ...COMMON_OPTIONS,
    ...stringOptions('csv', 'sort-into', 'format', 'top-k', 'batch-size'),
  });
  const [modelDir, ...inputs] = positionals;
  if (!modelDir || inputs.length === 0)
    throw new UsageError('predict needs a model folder and images: finetune predict MODEL_DIR DIR_OR_FILE...');
  const format = values.format;
  if (format !== undefined && !(EXPORT_FORMATS as readonly string[]).includes(format))
    throw new UsageError(`--format must be onnx or tfjs, got "${format}"`);
  const topK = num(values['top-k'], 'top-k', INTEGER.min(1).max(100), 3);
  const batchSize = num(values['batch-size'], 'batch-size', INTEGER.min(1).max(512), 32);
  const sortTo = values['sort-into'];
  if (sortTo) {
    try {
      checkSortTarget(sortTo, inputs);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const { images, problems: listed } = listImages(inputs);
  if (format !== 'onnx') await startBackend(values);
  const predictor = await Predictor.load(resolve(modelDir), { format: format as ExportFormat | undefined });
  const bar = new ProgressLine();
  let result;
  try {
    result = await predictImages(predictor, images, {
      batchSize,
      onProgress: (p) => bar.update({ label: `predicting (${predictor.format})`, ...p }),
    });
  } finally {
    bar.clear();
    predictor.dispose();
  }
  const problems = [...listed, ...result.problems];
  const all = { predictions: result.predictions, problems };
  for (const p of problems) io.err(`skipped ${p.file}: ${p.error}`);
  if (values.csv) writeFileSync(values.csv, predictionsCsv(all, topK));
  const copies = sortTo ? sortInto(sortTo, result.predictions, images) : [];
  if (values.json) {
    const rows = result.predictions.map(({ ranked: _, ...p }) => p);
    io.out(JSON.stringify([...rows, ...problems.map((p) => ({ file: p.file, label: null, error: p.error }))]));
  } else if (!values.csv) {
    for (const r of result.predictions) io.out(`${r.file}\t${r.label}\t${(r.probability * 100).toFixed(1)}%`);
  }
  if (!values.json && (values.csv || sortTo)) {
    io.out(
      `${result.predictions.length} images predicted with ${predictor.format}, ${problems.length} skipped` +
        (values.csv ? `; CSV: ${values.csv}` : '') +
        (sortTo ? `; ${copies.length} copies in ${sortTo}/<label>/` : ''),
    );
  }
}
