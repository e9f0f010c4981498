/**
 * Reading a labeled image folder: `DIR/<class>/**` (a seeded, stratified validation split is made) or the
 * fast.ai layout `DIR/train/<class>/**` + `DIR/valid/<class>/**`. Every image is decoded once here, so
 * corrupt files are found, skipped and reported before training rather than crashing it.
 */
import { access, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import {
  CodedError,
  englishText,
  type Message,
  type MessageCode,
  type MessageParams,
} from '../../../src-shared/messages';
import { englishReason, isImageFile, notAnImageReason, thumbnailDataUrl } from './images';
import { checkImages } from './scanCache';
import { IO_CONCURRENCY, mapPool } from '../util/pool';
import { mulberry32, shuffled, subSeed } from '../util/random';

export interface LabeledItem {
  file: string;
  label: number;
}

export interface SkippedFile {
  file: string;
  /** English, for logs and the CLI; `message` is the same as a code the renderer says in the user's language. */
  reason: string;
  message?: Message;
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
  /** English, for logs and the CLI; `warningMessages` holds the same as codes, in the same order. */
  warnings: string[];
  warningMessages?: Message[];
}

const msg = (code: MessageCode, params: MessageParams = {}): Message => ({ code, params });

function skip(file: string, message: Message): SkippedFile {
  return { file, reason: englishReason(message), message };
}

export interface ScanOptions {
  seed?: number;
  validPct?: number;
  /** Called as files are checked (a few times a second), for progress bars. */
  onProgress?: (done: number, total: number, etaSeconds: number | null) => void;
  /** Checked before each file: a cancel throws CancelledError (util/pool.ts) within one image per pool slot. */
  shouldCancel?: () => boolean;
  /**
   * HOME/cache/scan: each file's verdict is kept by path, size and modification time, so that a rescan of an
   * unchanged folder reads no image (scanCache.ts). Without it every image is decoded.
   */
  cacheDir?: string;
  /**
   * false: list the image files without decoding them (milliseconds instead of a pass over every image), for
   * callers that only need the classes and counts before a job's own, validating scan. Unreadable images are then
   * not found: counts are upper bounds.
   */
  decode?: boolean;
}

/** A folder that cannot be a dataset: its message (as data: src-shared/messages) names the folder and the fix. */
export class DatasetError extends CodedError {
  override name = 'DatasetError';
}

export const TRAIN_NAMES = ['train', 'training'];
export const VALID_NAMES = ['valid', 'val', 'validation'];
/** Where the data cleaner puts excluded images (core/data/cleaner.ts): in the dataset folder, never a class. */
export const EXCLUDED_FOLDER = '_excluded';

/** OS litter that is never a training image: ignored without a word, like every name starting with '.'. */
const JUNK_NAMES = new Set(['thumbs.db', 'ehthumbs.db', 'desktop.ini', '__macosx', 'icon\r']);
const isJunk = (name: string) => name.startsWith('.') || JUNK_NAMES.has(name.toLowerCase());

/** Links are not followed: a loop cannot hang the scan and a link cannot bring in files from outside the folder. */
export const LINK_REASON = englishText(msg('skip.link'));

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** A folder's sub-folders and files, in name order; links, special files and unreadable folders go to `skipped`. */
async function entries(dir: string, skipped: SkippedFile[]): Promise<Array<{ path: string; isDir: boolean }>> {
  let list;
  try {
    list = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException | null)?.code;
    const detail = err instanceof Error ? err.message : String(err);
    const denied = errno === 'EACCES' || errno === 'EPERM';
    skipped.push(skip(dir, msg(denied ? 'skip.cannotListPermission' : 'skip.cannotList', { detail })));
    return [];
  }
  list.sort((a, b) => a.name.localeCompare(b.name));
  const out: Array<{ path: string; isDir: boolean }> = [];
  for (const e of list) {
    if (isJunk(e.name)) continue;
    const path = join(dir, e.name);
    if (e.isDirectory() || e.isFile()) out.push({ path, isDir: e.isDirectory() });
    else if (e.isSymbolicLink()) skipped.push(skip(path, msg('skip.link')));
    else skipped.push(skip(path, msg('skip.notRegular')));
  }
  return out;
}

async function listFiles(dir: string, skipped: SkippedFile[]): Promise<string[]> {
  const out: string[] = [];
  for (const e of await entries(dir, skipped)) {
    if (e.isDir) out.push(...(await listFiles(e.path, skipped)));
    else out.push(e.path);
  }
  return out;
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
  const root = await stat(dir).catch(() => null);
  if (!root?.isDirectory()) {
    throw new DatasetError(root ? 'scan.notAFolder' : 'scan.folderNotFound', { path: dir });
  }
  const trainDir = await findSubdir(dir, TRAIN_NAMES);
  const validDir = await findSubdir(dir, VALID_NAMES);
  if (validDir && !trainDir) {
    throw new DatasetError('scan.validWithoutTrain', {
      validDir,
      trainClassDir: join(dir, 'train', '<class>'),
      path: dir,
    });
  }
  const layout: LabeledDataset['layout'] = trainDir && validDir ? 'split' : 'folders';
  const candidates: Candidate[] = [];
  const skipped: SkippedFile[] = [];
  const warnings: Message[] = [];
  /** Class folders seen, so that one without a readable image is reported rather than silently dropped. */
  const folders = new Map<string, string>();
  const collect = async (root: string, split: Candidate['split']) => {
    for (const e of await entries(root, skipped)) {
      if (!e.isDir) {
        if (isImageFile(e.path)) skipped.push(skip(e.path, msg('skip.notInClassFolder')));
        continue;
      }
      const className = basename(e.path);
      if (className === EXCLUDED_FOLDER && root === dir) continue;
      folders.set(className, e.path);
      for (const file of await listFiles(e.path, skipped)) {
        if (isImageFile(file)) candidates.push({ file, className, split });
        else skipped.push(skip(file, notAnImageReason(file)));
      }
    }
  };
  if (layout === 'split') {
    await collect(trainDir!, 'train');
    await collect(validDir!, 'valid');
  } else if (trainDir) {
    // train/ alone: its class folders are the dataset, split as if they were at the top.
    warnings.push(
      msg('scan.noValidFolder', {
        trainDir,
        percent: Math.round(validPct * 100),
        validClassDir: join(dir, 'valid', '<class>'),
      }),
    );
    await collect(trainDir, 'auto');
  } else {
    await collect(dir, 'auto');
  }

  const reasons =
    (options.decode ?? true)
      ? await checkImages(
          dir,
          candidates.map((c) => c.file),
          options,
        )
      : candidates.map(() => null);
  candidates.forEach((c, i) => {
    if (reasons[i] !== null) skipped.push(skip(c.file, reasons[i]!));
  });
  const good = candidates.filter((_, i) => reasons[i] === null);
  const classes = [...new Set(good.map((c) => c.className))].sort((a, b) => a.localeCompare(b));
  const looseImages = skipped.filter((s) => s.message?.code === 'skip.notInClassFolder').length;
  if (classes.length === 0 && looseImages > 0) {
    // The commonest first mistake: pointing at one class folder instead of the folder that holds them all.
    throw new DatasetError('scan.imagesNotInClassFolders', {
      path: dir,
      count: looseImages,
      parent: dirname(dir),
      name: basename(dir),
    });
  }
  if (classes.length < 2) {
    throw new DatasetError('scan.tooFewClasses', {
      count: classes.length,
      path: dir,
      classDir: join(dir, '<class>'),
      trainClassDir: join(dir, 'train', '<class>'),
      validClassDir: join(dir, 'valid', '<class>'),
    });
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
  for (const [name, folder] of folders) {
    if (!labelOf.has(name)) {
      warnings.push(msg('scan.emptyClassFolder', { folder, name }));
    }
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
    skipped: skipped.map((s) => ({ ...s, file: relative(dir, s.file) || s.file })),
    ...withWarnings([...warnings, ...datasetWarnings(classes, train, valid)]),
  };
}

export function classCounts(ds: Pick<LabeledDataset, 'classes' | 'train' | 'valid'>) {
  return ds.classes.map((name, label) => ({
    name,
    train: ds.train.filter((i) => i.label === label).length,
    valid: ds.valid.filter((i) => i.label === label).length,
  }));
}

/** The warnings in English (logs, the CLI) and as codes (the renderer), in the same order. */
function withWarnings(messages: Message[]): Pick<LabeledDataset, 'warnings' | 'warningMessages'> {
  return { warnings: messages.map((m) => englishText(m)), warningMessages: messages };
}

function datasetWarnings(classes: string[], train: LabeledItem[], valid: LabeledItem[]): Message[] {
  const warnings: Message[] = [];
  const counts = classCounts({ classes, train, valid });
  for (const c of counts) if (c.train === 0) warnings.push(msg('scan.classWithoutTrain', { name: c.name }));
  const noValid = counts.filter((c) => c.valid === 0).map((c) => `"${c.name}"`);
  if (valid.length === 0) {
    warnings.push(msg('scan.noValidationImages'));
  } else if (noValid.length > 3) {
    // One line, not hundreds, for a folder of many tiny classes.
    warnings.push(
      msg('scan.classesWithoutValid', {
        n: noValid.length,
        names: noValid.slice(0, 3).join(', '),
        more: noValid.length - 3,
      }),
    );
  } else {
    for (const name of noValid) warnings.push(msg('scan.classWithoutValid', { name }));
  }
  const trainCounts = counts.map((c) => c.train).filter((n) => n > 0);
  if (trainCounts.length > 1) {
    const ratio = Math.max(...trainCounts) / Math.min(...trainCounts);
    if (ratio >= 3) {
      warnings.push(msg('scan.imbalanced', { ratio: ratio.toFixed(1) }));
    }
  }
  return warnings;
}

export const MISSING_REASON = englishText(msg('skip.missing'));

/** `ds` without the items whose files are in `gone`, each reported in `skipped` with a warning: files deleted or moved. */
export function leaveOutMissing(ds: LabeledDataset, gone: ReadonlySet<string>): LabeledDataset {
  const missing = [...ds.train, ...ds.valid].filter((i) => gone.has(i.file));
  if (missing.length === 0) return ds;
  const kept = (i: LabeledItem) => !gone.has(i.file);
  return {
    ...ds,
    train: ds.train.filter(kept),
    valid: ds.valid.filter(kept),
    skipped: [...ds.skipped, ...missing.map((g) => skip(relative(ds.dir, g.file) || g.file, msg('skip.missing')))],
    ...withWarnings([
      ...(ds.warningMessages ?? ds.warnings.map((text) => msg('skip.other', { detail: text }))),
      msg('scan.filesGone', { count: missing.length, path: ds.dir }),
    ]),
  };
}

/**
 * An earlier scan without the images deleted or moved since it was made (reported in `skipped`), for a job that
 * reuses the scan instead of decoding every image again.
 */
export async function withoutMissingFiles(ds: LabeledDataset): Promise<LabeledDataset> {
  const items = [...ds.train, ...ds.valid];
  const present = await mapPool(items, IO_CONCURRENCY, (i) =>
    access(i.file).then(
      () => true,
      () => false,
    ),
  );
  return leaveOutMissing(ds, new Set(items.filter((_, k) => !present[k]).map((i) => i.file)));
}

/** A few thumbnails per class for the summary page. */
export async function datasetThumbnails(ds: LabeledDataset, perClass = 4) {
  const picks = ds.classes.flatMap((className, label) =>
    ds.train
      .filter((i) => i.label === label)
      .slice(0, perClass)
      .map((i) => ({ className, file: i.file })),
  );
  return mapPool(picks, IO_CONCURRENCY, async (p) => ({
    className: p.className,
    file: relative(ds.dir, p.file),
    dataUrl: await thumbnailDataUrl(p.file),
  }));
}
