/**
 * Export: a self-describing folder anyone can load with TensorFlow.js or ONNX Runtime — model.json + weights.bin
 * (the whole classifier, image in, probabilities out) or the snapshot ensemble's members/ + ensemble.json; model.onnx
 * (the same as one ONNX graph, onnx/onnxModel.ts); labels.json,
 * preprocessing.json (the input the model expects), metadata.json (run, config, app version, every file's size and
 * sha256), README.md (how to use it from Node and a web page), MODEL_CARD.md (data, training, metrics, limits) and an
 * offline web demo (index.html + web/, webDemo.ts) that gives `finetune predict`'s numbers from disk or any server.
 *
 * Written atomically (atomicDir.ts): into a temporary sibling renamed into place when complete, so a failed or
 * killed export leaves no folder or a complete one. A non-empty target is refused unless `force`, and even then unless
 * it is an earlier export and none of the app's own folders (exportGuard.ts).
 */
import { CodedError } from '../../../src-shared/messages';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { getBackbone } from '../model/backbones';
import { datasetFingerprint, type DatasetFingerprint } from '../data/fingerprint';
import { loadModelFromDir, WEIGHTS_FILE } from '../model/modelFiles';
import { readRunEnsemble, readRunMeta, readRunRecipe, type RunMeta } from '../runFiles';
import { appVersion } from '../appVersion';
import { testPause, writeDirAtomically } from './atomicDir';
import { EXPORT_FORMAT, guardRefusal, isPreviousExport, type ExportGuard } from './exportGuard';
import { recordedDataset, type CardDataset, type ExportHistory } from './exportHistory';
import { renderModelCard, type CardInput } from './modelCard';
import { renderUsageReadme } from './usageReadme';
import { describeFormats, exportFormats, type ExportFormat } from './formats';
import { ONNX_FILE, onnxModel, type OnnxDescription } from './onnx/onnxModel';
import { OnnxUnsupportedError } from './onnx/classifierGraph';
import { writeWebDemo } from './webDemo';

export { ExportTargetError } from './atomicDir';
import { preprocessingFor } from './preprocessing';
export { preprocessingFor, type Preprocessing } from './preprocessing';
export { EXPORT_FORMATS, parseExportFormats, type ExportFormat } from './formats';
export type { ExportHistory } from './exportHistory';

export interface ExportOptions {
  /** Replace a non-empty existing folder (old one renamed aside, new one in, old one deleted). */
  force?: boolean;
  /** The run's history record (when and where it trained, metrics, dataset counts) for the model card. */
  history?: ExportHistory | null;
  /** The app's folders an export must never replace (exportGuard.ts); the CLI and the app always pass it. */
  guard?: ExportGuard;
  /** Which model formats to write: TF.js, ONNX or both (the default). */
  formats?: readonly ExportFormat[];
}

export interface ExportResult {
  dir: string;
  files: string[];
  /** What was left out, and why: a model the ONNX export cannot write, when the formats were not chosen. */
  warnings: string[];
}

/** Collects the files written into the temporary folder, with the test pause between them. */
class ExportWriter {
  readonly files: string[] = [];
  constructor(readonly dir: string) {}

  private path(rel: string): string {
    const p = join(this.dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    return p;
  }

  async copy(from: string, rel: string): Promise<void> {
    copyFileSync(from, this.path(rel));
    await this.wrote(rel);
  }

  async bytes(rel: string, content: Uint8Array): Promise<void> {
    writeFileSync(this.path(rel), content);
    await this.wrote(rel);
  }

  async text(rel: string, content: string): Promise<void> {
    writeFileSync(this.path(rel), content);
    await this.wrote(rel);
  }

  async json(rel: string, value: unknown): Promise<void> {
    await this.text(rel, JSON.stringify(value, null, 2));
  }

  private async wrote(rel: string): Promise<void> {
    this.files.push(rel);
    await testPause(`wrote ${rel}`);
  }

  /** Size and sha256 of every file written so far. */
  manifest(): Array<{ path: string; bytes: number; sha256: string }> {
    return this.files.map((f) => {
      const p = join(this.dir, f);
      return { path: f, bytes: statSync(p).size, sha256: createHash('sha256').update(readFileSync(p)).digest('hex') };
    });
  }
}

function backboneInfo(id: string): CardInput['backbone'] {
  try {
    const b = getBackbone(id);
    return { id, name: b.name, note: b.note, license: b.license };
  } catch {
    return { id, name: id, note: `Backbone ${id} is not in this version's registry: no details known.`, license: null };
  }
}

/**
 * The fingerprint taken when the run read its folder (kept in the history), and the folder's as it is now: the card
 * names the first and says whether the folder has changed since. Runs recorded before it was kept get today's.
 */
async function fingerprintsOf(
  meta: RunMeta,
  dataset: CardDataset | null,
): Promise<Pick<CardInput, 'fingerprint' | 'folderNow'>> {
  let now: DatasetFingerprint | { error: string };
  try {
    now = await datasetFingerprint(dataset?.dir ?? meta.config.dir, {
      seed: meta.config.seed,
      validPct: meta.config.validPct,
      skipped: dataset?.skipped.map((s) => s.file),
    });
  } catch (err) {
    now = { error: (err as Error).message };
  }
  if (dataset?.fingerprint) return { fingerprint: { ...dataset.fingerprint, at: 'training' }, folderNow: now };
  return { fingerprint: 'error' in now ? now : { ...now, at: 'export' }, folderNow: null };
}

const CARD_FILES = ['README.md', 'MODEL_CARD.md', 'metadata.json'];

/** One model of the export: its folder in the run, and where its TF.js files go in the export ('.' or members/<i>). */
interface ModelSource {
  from: string;
  to: string;
}

/** model.onnx: every source model in one graph (an ensemble's members averaged). */
async function writeOnnx(w: ExportWriter, sources: ModelSource[], m: Parameters<typeof onnxModel>[1]) {
  const models = await Promise.all(sources.map((s) => loadModelFromDir(s.from)));
  try {
    const { bytes, description } = onnxModel(models, m);
    await w.bytes(ONNX_FILE, bytes);
    return description;
  } finally {
    for (const model of models) model.dispose();
  }
}

/**
 * Write the export of `sources` in each of `options.formats`: TF.js (the model folders, with an ensemble's
 * ensemble.json, and the web demo) and ONNX (model.onnx); then the shared files and the two documents.
 */
async function writeExport(
  kind: CardInput['kind'],
  runId: number,
  runDir: string,
  outDir: string,
  options: ExportOptions,
  sources: ModelSource[],
  ensembleJson: object | null,
): Promise<ExportResult> {
  let formats = exportFormats(options.formats);
  const warnings: string[] = [];
  const meta = readRunMeta(runDir);
  const recipe = readRunRecipe(runDir);
  const ensemble = readRunEnsemble(runDir);
  const history = options.history ?? null;
  const dataset = recordedDataset(history);
  const { fingerprint, folderNow } = await fingerprintsOf(meta, dataset);
  const version = appVersion();
  const exportedAt = new Date().toISOString();
  const preprocessing = preprocessingFor(meta.size);
  const dir = resolve(outDir);
  const { guard } = options;
  const atomic = {
    ...{ force: options.force, protect: [runDir], replaceable: isPreviousExport },
    ...{ refuse: guard ? (t: string) => guardRefusal(t, guard) : undefined },
  };
  const files = await writeDirAtomically(dir, atomic, async (tmp) => {
    const w = new ExportWriter(tmp);
    const tfjsFiles: string[] = [];
    if (formats.includes('tfjs')) {
      for (const s of sources) {
        for (const f of ['model.json', WEIGHTS_FILE]) await w.copy(join(s.from, f), join(s.to, f));
      }
      if (ensembleJson) await w.json('ensemble.json', ensembleJson);
      tfjsFiles.push(...w.files);
    }
    let onnx: OnnxDescription | null = null;
    if (formats.includes('onnx')) {
      try {
        onnx = await writeOnnx(w, sources, { labels: meta.classes, preprocessing, appVersion: version, runId });
      } catch (err) {
        // Both formats by default: a model ONNX cannot express still gets its TF.js export, with a warning.
        if (!(err instanceof OnnxUnsupportedError) || options.formats) throw err;
        warnings.push(`${err.message} Exported as TF.js only.`);
        formats = formats.filter((f) => f !== 'onnx');
      }
    }
    await w.json('labels.json', meta.classes);
    await w.json('preprocessing.json', preprocessing);
    if (formats.includes('tfjs')) {
      const title = `${meta.classes.join(' / ')}: an image classifier (run ${runId})`;
      const models = sources.map((s) => s.to);
      await writeWebDemo(w, { dir: tmp, models, labels: meta.classes, inputSize: meta.size, title });
    }
    const all = [...w.files, ...CARD_FILES];
    const readme = { runId, kind, classes: meta.classes, size: meta.size, appVersion: version, formats };
    await w.text('README.md', renderUsageReadme(readme));
    const described = describeFormats(w.manifest(), tfjsFiles, onnx);
    const card: CardInput = {
      ...{ runId, kind, meta, recipe, ensemble, history, dataset, fingerprint, folderNow, exportedAt, files: all },
      backbone: backboneInfo(meta.backboneId),
      appVersion: version,
      formats: described,
    };
    await w.text('MODEL_CARD.md', renderModelCard(card));
    const metadata = {
      ...{ format: EXPORT_FORMAT, formatVersion: 1, kind, runId, exportedAt, appVersion: version },
      ...{ backboneId: meta.backboneId, classes: meta.classes, config: meta.config, formats: described },
      files: w.manifest(),
    };
    await w.json('metadata.json', metadata);
    return w.files;
  });
  return { dir, files, warnings };
}

export async function exportRun(
  runId: number,
  runDir: string,
  outDir: string,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const modelDir = join(runDir, 'model');
  if (!existsSync(join(modelDir, 'model.json'))) {
    throw new CodedError('export.noModel', { runId });
  }
  return writeExport('model', runId, runDir, outDir, options, [{ from: modelDir, to: '.' }], null);
}

/**
 * Export a recipe run's snapshot ensemble: in TF.js, one model folder per SGDR snapshot under `members/` and
 * `ensemble.json` saying how to combine them (the mean of their probabilities; `finetune predict` reads it); in
 * ONNX, one graph that averages them.
 */
export async function exportEnsemble(
  runId: number,
  runDir: string,
  outDir: string,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const info = readRunEnsemble(runDir);
  if (!info) throw new CodedError('export.noEnsemble', { runId });
  const sources = info.snapshots.map((rel, i) => ({ from: join(runDir, rel), to: `members/${i}` }));
  const members = sources.map((s) => s.to);
  const ensembleJson = { combine: 'mean of probabilities', members, validAccuracy: info.validAccuracy, runId };
  return writeExport('ensemble', runId, runDir, outDir, options, sources, ensembleJson);
}
