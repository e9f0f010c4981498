/**
 * Reading a labeled image folder: `DIR/<class>/**` (a seeded, stratified validation split is made) or the
 * fast.ai layout `DIR/train/<class>/**` + `DIR/valid/<class>/**`. Every image is decoded once here, so
 * corrupt files are found, skipped and reported before training rather than crashing it.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describeImageError, decodeRgb, isImageFile, thumbnailDataUrl } from './images';
import { mapPool } from '../util/pool';
import { mulberry32, shuffled, subSeed } from '../util/random';

export interface LabeledItem {
  file: string;
  label: number;
}

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface LabeledDataset {
  dir: string;
  layout: 'split' | 'folders';
  validPct: number;
  seed: number;
  classes: string[];
  train: LabeledItem[];
  valid: LabeledItem[];
  skipped: SkippedFile[];
  warnings: string[];
}

export interface ScanOptions {
  seed?: number;
  validPct?: number;
  /** Called after each decoded file, for progress bars. */
  onProgress?: (done: number, total: number) => void;
  /**
   * false: list the image files without decoding them (milliseconds instead of a pass over every image), for
   * callers that only need the classes and counts before a job's own, validating scan. Unreadable images are then
   * not found: counts are upper bounds.
   */
  decode?: boolean;
}

export class DatasetError extends Error {}

const TRAIN_NAMES = ['train', 'training'];
const VALID_NAMES = ['valid', 'val', 'validation'];

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(full)));
    else if (e.isFile()) out.push(full);
  }
  return out;
}

async function classFolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b));
}

async function findSubdir(dir: string, names: string[]): Promise<string | null> {
  for (const n of names) if (await isDir(join(dir, n))) return join(dir, n);
  return null;
}

interface Candidate {
  file: string;
  className: string;
  split: 'train' | 'valid' | 'auto';
}

/** Scan and validate a dataset folder. Throws DatasetError with a message naming the folder and the fix. */
export async function scanDataset(dir: string, options: ScanOptions = {}): Promise<LabeledDataset> {
  const seed = options.seed ?? 42;
  const validPct = options.validPct ?? 0.2;
  if (!(await isDir(dir))) {
    throw new DatasetError(`Folder not found: ${dir}. Choose a folder that holds one sub-folder of images per class.`);
  }
  const trainDir = await findSubdir(dir, TRAIN_NAMES);
  const validDir = await findSubdir(dir, VALID_NAMES);
  const layout: LabeledDataset['layout'] = trainDir && validDir ? 'split' : 'folders';
  const candidates: Candidate[] = [];
  const skipped: SkippedFile[] = [];
  const collect = async (root: string, split: Candidate['split']) => {
    for (const className of await classFolders(root)) {
      for (const file of await listFiles(join(root, className))) {
        if (isImageFile(file)) candidates.push({ file, className, split });
        else skipped.push({ file, reason: 'not an image file (by extension); ignored' });
      }
    }
  };
  if (layout === 'split') {
    await collect(trainDir!, 'train');
    await collect(validDir!, 'valid');
  } else {
    await collect(dir, 'auto');
  }

  let done = 0;
  const check = async (c: Candidate) => {
    try {
      await decodeRgb(c.file, 16);
      return true;
    } catch (err) {
      skipped.push({ file: c.file, reason: describeImageError(err) });
      return false;
    } finally {
      options.onProgress?.(++done, candidates.length);
    }
  };
  const readable = (options.decode ?? true) ? await mapPool(candidates, 4, check) : candidates.map(() => true);
  const good = candidates.filter((_, i) => readable[i]);
  const classes = [...new Set(good.map((c) => c.className))].sort((a, b) => a.localeCompare(b));
  if (classes.length < 2) {
    throw new DatasetError(
      `Found ${classes.length} class folder(s) with readable images in ${dir}; at least 2 are needed. ` +
        `Put images in ${join(dir, '<class>')}/ (one folder per class), or use ${join(dir, 'train', '<class>')}/ and ${join(dir, 'valid', '<class>')}/.`,
    );
  }
  const labelOf = new Map(classes.map((c, i) => [c, i]));
  const train: LabeledItem[] = [];
  const valid: LabeledItem[] = [];
  const rand = mulberry32(subSeed(seed, 'split'));
  for (const className of classes) {
    const mine = good.filter((c) => c.className === className);
    const label = labelOf.get(className)!;
    if (layout === 'split') {
      for (const c of mine) (c.split === 'valid' ? valid : train).push({ file: c.file, label });
      continue;
    }
    // Stratified: the same share of every class goes to validation, at least one when a class has two or more.
    const order = shuffled(mine, rand);
    const nValid = order.length < 2 ? 0 : Math.max(1, Math.round(order.length * validPct));
    order.forEach((c, i) => (i < nValid ? valid : train).push({ file: c.file, label }));
  }
  skipped.sort((a, b) => a.file.localeCompare(b.file));
  return {
    dir,
    layout,
    validPct: layout === 'split' ? valid.length / Math.max(1, valid.length + train.length) : validPct,
    seed,
    classes,
    train,
    valid,
    skipped: skipped.map((s) => ({ file: relative(dir, s.file) || s.file, reason: s.reason })),
    warnings: datasetWarnings(classes, train, valid),
  };
}

export function classCounts(ds: Pick<LabeledDataset, 'classes' | 'train' | 'valid'>) {
  return ds.classes.map((name, label) => ({
    name,
    train: ds.train.filter((i) => i.label === label).length,
    valid: ds.valid.filter((i) => i.label === label).length,
  }));
}

function datasetWarnings(classes: string[], train: LabeledItem[], valid: LabeledItem[]): string[] {
  const warnings: string[] = [];
  const counts = classCounts({ classes, train, valid });
  for (const c of counts) {
    if (c.train === 0) warnings.push(`Class "${c.name}" has no training images.`);
    if (c.valid === 0) warnings.push(`Class "${c.name}" has no validation images: its accuracy cannot be measured.`);
  }
  const trainCounts = counts.map((c) => c.train).filter((n) => n > 0);
  if (trainCounts.length > 1) {
    const ratio = Math.max(...trainCounts) / Math.min(...trainCounts);
    if (ratio >= 3) {
      warnings.push(
        `Classes are imbalanced (largest/smallest = ${ratio.toFixed(1)}x): accuracy may favour the large classes.`,
      );
    }
  }
  return warnings;
}

/** A few thumbnails per class for the summary page. */
export async function datasetThumbnails(ds: LabeledDataset, perClass = 4) {
  const picks = ds.classes.flatMap((className, label) =>
    ds.train
      .filter((i) => i.label === label)
      .slice(0, perClass)
      .map((i) => ({ className, file: i.file })),
  );
  return mapPool(picks, 4, async (p) => ({
    className: p.className,
    file: relative(ds.dir, p.file),
    dataUrl: await thumbnailDataUrl(p.file),
  }));
}
