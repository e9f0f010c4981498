/**
 * MODEL_CARD.md of an export: what the model is for and not for, the data it learnt from (classes, counts, split,
 * seed, a fingerprint of the file list), the backbone and its caveat, how it was trained (every recipe step's LR,
 * epochs, schedule and validation metrics), the final metrics, backend, app version and date. Pure: everything comes
 * in as `CardInput` (exporter.ts gathers it from the run folder and the run's history record).
 */
import type { EpochMetrics, RecipeStepResult } from '../../../src-shared/contract';
import type { DatasetFingerprint } from '../data/fingerprint';
import type { RunEnsemble, RunMeta, RunRecipe } from '../runFiles';
import type { CardDataset, ExportHistory } from './exportHistory';
import { stepSchedule, describeSchedule } from './scheduleText';
import { mdCode, mdText } from './markdown';
import type { FormatDescription } from './formats';
import { englishText } from '../../../src-shared/messages';
import { runKindMessage } from '../../../src-shared/recipe/runKind';
import { differentialLrs } from '../../../src-shared/recipe/differentialLrs';

export interface CardInput {
  runId: number;
  kind: 'model' | 'ensemble';
  meta: RunMeta;
  recipe: RunRecipe;
  ensemble: RunEnsemble | null;
  history: ExportHistory | null;
  dataset: CardDataset | null;
  /**
   * The fingerprint of the images the run used: taken when it trained (kept in the history), or for runs recorded
   * before that, of the folder at export time; or why there is none.
   */
  fingerprint: (DatasetFingerprint & { at: 'training' | 'export' }) | { error: string };
  /** With a training-time fingerprint: the folder's at export time, to say whether it has changed since. */
  folderNow: DatasetFingerprint | { error: string } | null;
  backbone: { id: string; name: string; note: string; license: string | null };
  appVersion: string;
  exportedAt: string;
  files: string[];
  /** The model formats written, with their files' sha256. */
  formats: FormatDescription[];
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)} %`);
const num = (x: number | null | undefined) => (x === null || x === undefined ? '–' : Number(x.toPrecision(4)));
const code = mdCode;

function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) =>
    `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function intendedUse(c: CardInput): string {
  const classes = c.meta.classes;
  const valid = c.dataset ? c.dataset.classes.reduce((n, k) => n + k.valid, 0) : null;
  return [
    '## Intended use and limits',
    '',
    `- Sorts one image into one of ${classes.length} classes: ${classes.map(code).join(', ')}. It always answers one ` +
      'of them: there is no "none of these", and an image unlike the training images still gets a confident-looking, ' +
      'meaningless answer.',
    `- Expects the preprocessing in \`preprocessing.json\` (${c.meta.size} × ${c.meta.size} RGB in [0, 1], shorter ` +
      'side resized, centre crop); other preprocessing lowers accuracy without any error.',
    valid !== null
      ? `- The validation figures come from ${valid} images of the same folder (one image = ${pct(1 / Math.max(1, valid))}); ` +
        'images from another source (camera, lighting, background) can do much worse. Check it on your own images first.'
      : '- Check it on your own images first: the validation figures come from the training folder only.',
    '- Not for decisions about people, or anything where a wrong answer does harm, without your own evaluation.',
    `- Backbone caveat: ${c.backbone.note}`,
  ].join('\n');
}

/** The fingerprint, when it was taken, and whether the folder has changed since the run trained. */
function fingerprintText(
  fp: DatasetFingerprint & { at: 'training' | 'export' },
  now: CardInput['folderNow'],
  recorded: number | null,
): string {
  const text = (f: DatasetFingerprint) => `sha256 ${code(f.sha256)} over ${f.files} files (${f.bytes} bytes)`;
  const changed = ' — **the folder has changed since training**';
  if (fp.at === 'export')
    return (
      `${text(fp)}, computed at export time (this run predates fingerprints taken at training)` +
      (recorded !== null && recorded !== fp.files ? `${changed} (the run used ${recorded} images)` : '')
    );
  const base = `${text(fp)}, taken when the run read its images`;
  if (now === null || 'error' in now)
    return `${base}; the folder could not be checked now${now ? `: ${mdText(now.error)}` : ''}`;
  return now.sha256 === fp.sha256 ? `${base}; the folder still matches` : `${base}${changed} (now ${text(now)})`;
}

function datasetSection(c: CardInput): string {
  const d = c.dataset;
  const out = ['## Dataset', ''];
  const fp = c.fingerprint;
  const recorded = d ? d.classes.reduce((n, k) => n + k.train + k.valid, 0) : null;
  const fpText = 'error' in fp ? `not computed: ${mdText(fp.error)}` : fingerprintText(fp, c.folderNow, recorded);
  const rows: Array<[string, string | number]> = [
    ['folder', code(d?.dir ?? c.meta.config.dir)],
    [
      'split',
      d?.layout === 'split'
        ? `the folder's own train/ and valid/ (${pct(d.validPct)} validation)`
        : `seeded, stratified ${pct(d?.validPct ?? c.meta.config.validPct)} of each class for validation`,
    ],
    ['seed', d?.seed ?? c.meta.config.seed],
    ['fingerprint', fpText],
    [
      'fingerprint rule',
      'sha256 of the sorted lines `relative/path<TAB>bytes` of the images used (skipped files left out)',
    ],
  ];
  if (d) rows.push(['skipped files', d.skipped.length ? `${d.skipped.length} (unreadable or not images)` : 'none']);
  out.push(table(['', 'value'], rows), '');
  if (d && d.classes.length) {
    out.push(
      table(
        ['class', 'train', 'valid'],
        d.classes.map((k) => [mdText(k.name), k.train, k.valid]),
      ),
    );
  } else out.push(`Classes: ${c.meta.classes.map(code).join(', ')} (counts not recorded in the run history).`);
  for (const w of d?.warnings ?? []) out.push('', `Warning: ${mdText(w)}`);
  return out.join('\n');
}

/** Step 6's per-group LRs (those step 8 trains at), or a dash until step 7 has set them. */
function groupLrs(steps: RecipeStepResult[], c: CardInput): string {
  const lrs = differentialLrs(steps, c.recipe.recipe?.lrAll ?? null);
  return lrs ? `[${lrs.map((lr) => num(lr)).join(', ')}]` : '– (set by step 7)';
}

function stepRows(steps: RecipeStepResult[], c: CardInput): Array<Array<string | number>> {
  return steps.map((s) => [
    s.step,
    s.name,
    s.epochs,
    s.step === 6
      ? groupLrs(steps, c)
      : s.lr === null
        ? '–'
        : num(s.lr) + (s.groupLrMults ? ` × [${s.groupLrMults.map((m) => num(m)).join(', ')}]` : ''),
    stepSchedule(s, c.recipe.recipe),
    num(s.validLoss),
    pct(s.validAccuracy),
  ]);
}

/**
 * What the exported model is, in the words the history uses (src-shared/recipe/runKind.ts): the recipe's last step
 * done is where the run paused (a head-only model is the recipe stopped after step 3).
 */
function runKind(steps: RecipeStepResult[] | undefined): string {
  const last = steps?.at(-1)?.step ?? 3;
  const kind = englishText(
    runKindMessage({ kind: 'fastai8', status: last >= 8 ? 'completed' : 'paused', untilStep: last }),
  );
  return last >= 8 ? `${kind}: fast.ai's recipe` : `${kind}: fast.ai's recipe, stopped after step ${last}`;
}

function trainingSection(c: CardInput): string {
  const cfg = c.meta.config;
  const h = c.history;
  const rows: Array<[string, string | number]> = [
    ['kind', runKind(c.recipe.steps)],
    ['image size', `${c.meta.size} px`],
    ['batch size', cfg.batchSize],
    ['seed', cfg.seed],
    ['dropout', cfg.dropout],
  ];
  if (c.recipe.recipe?.optimizer) rows.push(['optimizer', c.recipe.recipe.optimizer]);
  if (!c.recipe.steps)
    rows.push(['epochs', cfg.epochs], ['LR', num(cfg.lr)], ['schedule', describeSchedule(cfg.schedule)]);
  rows.push(['backend', h ? h.backend + (h.backendNote ? ` (${h.backendNote})` : '') : 'not recorded']);
  if (h) rows.push(['trained', `${h.createdAt} → ${h.finishedAt ?? '?'}`]);
  if (h?.timing?.total.actual != null) rows.push(['training time', `${Math.round(h.timing.total.actual)} s`]);
  const out = ['## Training', '', table(['', 'value'], rows)];
  if (c.recipe.steps?.length) {
    out.push(
      '',
      "Each step as the run recorded it (LR: the step's peak LR; × [...]: per layer-group multipliers; validation " +
        'metrics after the step):',
      '',
      table(['step', 'name', 'epochs', 'LR', 'schedule', 'valid loss', 'valid accuracy'], stepRows(c.recipe.steps, c)),
    );
  }
  return out.join('\n');
}

function finalMetrics(c: CardInput): { validLoss: number | null; validAccuracy: number | null; where: string } {
  const last8 = c.recipe.steps?.find((s) => s.step === 8);
  if (last8)
    return { validLoss: last8.validLoss, validAccuracy: last8.validAccuracy, where: 'step 8, the checkpoint it kept' };
  const last: EpochMetrics | undefined = c.history?.epochs.at(-1);
  if (last)
    return { validLoss: last.validLoss, validAccuracy: last.validAccuracy, where: `epoch ${last.epoch + 1}, the last` };
  return { validLoss: null, validAccuracy: null, where: 'not recorded' };
}

function metricsSection(c: CardInput): string {
  const f = finalMetrics(c);
  const rows: Array<[string, string | number]> = [
    ['validation loss', `${num(f.validLoss)} (${f.where})`],
    ['validation accuracy', `${pct(f.validAccuracy)} (${f.where})`],
  ];
  if (c.ensemble)
    rows.push([
      `snapshot ensemble of ${c.ensemble.snapshots.length}`,
      `${pct(c.ensemble.validAccuracy)} validation accuracy`,
    ]);
  const best = c.history?.epochs.length ? Math.max(...c.history.epochs.map((e) => e.validAccuracy)) : null;
  if (best !== null) rows.push(['best epoch, any step', pct(best)]);
  const exported =
    c.kind === 'ensemble' ? "the snapshot ensemble (mean of its members' probabilities)" : 'the single model';
  return ['## Final metrics', '', `This folder holds ${exported}.`, '', table(['', 'value'], rows)].join('\n');
}

const FORMAT_NAMES = { tfjs: 'TensorFlow.js layers model', onnx: 'ONNX model' } as const;

function formatsSection(c: CardInput): string {
  const rows = c.formats.flatMap((f) =>
    f.files.map((file) => [FORMAT_NAMES[f.format], code(file.path), file.bytes, code(file.sha256)]),
  );
  const onnx = c.formats.find((f) => f.format === 'onnx');
  return [
    '## Formats',
    '',
    table(['format', 'file', 'bytes', 'sha256'], rows),
    ...(onnx && onnx.format === 'onnx'
      ? [
          '',
          `ONNX: opset ${onnx.opset}, input ${code(onnx.input.name)} float32 [${onnx.input.dims.join(', ')}] ` +
            `(${onnx.input.layout}, RGB in [0, 1], the preprocessing of \`preprocessing.json\`), output ` +
            `${code(onnx.output.name)} [${onnx.output.dims.join(', ')}]; ${onnx.combine}. Operators: ` +
            `${onnx.ops.join(', ')}. BatchNorm is folded into the convolutions.`,
        ]
      : []),
  ].join('\n');
}

export function renderModelCard(c: CardInput): string {
  const b = c.backbone;
  const formats = c.formats.map((f) => FORMAT_NAMES[f.format]).join(' and ');
  const tfjs = c.formats.some((f) => f.format === 'tfjs');
  return [
    `# Model card: ${c.meta.classes.map(mdText).join(' / ')} (run ${c.runId})`,
    '',
    `An image classifier fine-tuned with Finetune Studio ${c.appVersion}, exported ${c.exportedAt}. ` +
      `${c.meta.classes.length} classes, ${c.meta.size} px input, ${formats}.`,
    '',
    intendedUse(c),
    '',
    datasetSection(c),
    '',
    '## Backbone',
    '',
    `${b.name} (${code(b.id)}${b.license ? `, ${b.license}` : ''}), cut before its classifier, with global average ` +
      'pooling and a new dropout + dense softmax head.',
    '',
    `**Caveat:** ${b.note}`,
    '',
    trainingSection(c),
    '',
    metricsSection(c),
    '',
    formatsSection(c),
    '',
    '## Files',
    '',
    ...(tfjs
      ? ['Open `index.html` in a browser (from the disk, offline) to try the model on your own images.', '']
      : []),
    ...c.files.map((f) => `- ${code(f)}`),
    '',
  ].join('\n');
}
