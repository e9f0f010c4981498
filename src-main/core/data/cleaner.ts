/**
 * The data cleaner (fastai v2's ImageClassifierCleaner, Lobe's corrections): move an image to another class folder
 * (relabel) or out of the class folders into `_excluded/` (exclude), and undo those moves one by one, newest first.
 *
 * The user's files stay safe: nothing is ever overwritten (a name clash gets a " (2)" suffix; the no-overwrite is
 * atomic: a hard link, or a copy with COPYFILE_EXCL where links are not possible), nothing is deleted, files move
 * only inside the dataset folder (links are refused, the real paths are checked), and a relabel goes only into a
 * class folder that exists. Every move is recorded in a journal in the dataset folder (a hidden file the scan
 * ignores), written atomically, so the undo list survives a restart and is shared by the app and the CLI.
 */
import { copyFileSync, constants, existsSync, lstatSync, mkdirSync, linkSync, realpathSync } from 'node:fs';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { CleanEntry } from '../../../src-shared/runSchemas';
import { readJsonFile } from '../util/json';
import { EXCLUDED_FOLDER, TRAIN_NAMES, VALID_NAMES } from './dataset';

export { EXCLUDED_FOLDER };
export const JOURNAL_FILE = '.finetune-cleaner.json';

const Journal = z.object({ version: z.literal(1), entries: z.array(CleanEntry) });
type Journal = z.infer<typeof Journal>;

export class CleanerError extends Error {}

/** The dataset folder's real path (the one every move is checked against). */
function rootOf(dir: string): string {
  try {
    const root = realpathSync(dir);
    if (lstatSync(root).isDirectory()) return root;
  } catch {
    // Reported below.
  }
  throw new CleanerError(`Not a dataset folder: ${dir}`);
}

const toPosix = (rel: string) => rel.split(sep).join('/');
const fromPosix = (root: string, rel: string) => join(root, ...rel.split('/'));

/** `rel` (from the root) names something strictly inside it. */
const inside = (rel: string) => rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);

export function readJournal(dir: string): CleanEntry[] {
  const path = join(rootOf(dir), JOURNAL_FILE);
  if (!existsSync(path)) return [];
  return readJsonFile(path, Journal, `Move or delete ${path} to start a new undo list.`).entries;
}

function writeJournal(root: string, entries: CleanEntry[]): void {
  const path = join(root, JOURNAL_FILE);
  const journal: Journal = { version: 1, entries };
  writeFileSync(`${path}.tmp`, JSON.stringify(journal, null, 2));
  renameSync(`${path}.tmp`, path);
}

/**
 * An image of the dataset: a regular file (not a link) inside the root, split into its path segments. `file` is
 * absolute, or relative to the dataset folder (as interpretations name the validation images).
 */
function imageIn(root: string, file: string): string[] {
  const abs = resolve(root, file);
  let st;
  try {
    st = lstatSync(abs);
  } catch {
    throw new CleanerError(`No such image: ${file}`);
  }
  if (!st.isFile()) throw new CleanerError(`Not a regular file (links and folders are not moved): ${file}`);
  // The real folder it is in must be inside the real root (a linked folder cannot lead out of it).
  const rel = relative(root, join(realpathSync(dirname(abs)), basename(abs)));
  if (!inside(rel)) throw new CleanerError(`${file} is not inside the dataset folder ${root}.`);
  const parts = rel.split(sep);
  if (parts[0] === EXCLUDED_FOLDER) throw new CleanerError(`${file} is already excluded.`);
  return parts;
}

/** Which segment of an image's path is its class folder: `<class>/…` or `train|valid/<class>/…`. */
function classIndex(parts: string[]): number {
  const split = [...TRAIN_NAMES, ...VALID_NAMES].includes(parts[0]!.toLowerCase()) && parts.length >= 3;
  const i = split ? 1 : 0;
  if (parts.length < i + 2) throw new CleanerError(`${parts.join('/')} is not in a class folder.`);
  return i;
}

/** "name.jpg", then "name (2).jpg", "name (3).jpg", … */
function candidate(path: string, n: number): string {
  if (n === 1) return path;
  const ext = extname(path);
  return `${path.slice(0, path.length - ext.length)} (${n})${ext}`;
}

/** Move a file without ever replacing one: the first free name of `dest`; returns it. */
function moveNoClobber(src: string, dest: string): string {
  mkdirSync(dirname(dest), { recursive: true });
  for (let n = 1; n < 10000; n++) {
    const target = candidate(dest, n);
    try {
      linkSync(src, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      // No hard links here (another device, FAT, some network shares): an exclusive copy.
      try {
        copyFileSync(src, target, constants.COPYFILE_EXCL);
      } catch (copyErr) {
        if ((copyErr as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw copyErr;
      }
    }
    unlinkSync(src);
    return target;
  }
  throw new CleanerError(`No free name for ${dest}`);
}

function record(root: string, entry: Omit<CleanEntry, 'id' | 'at'>): CleanEntry {
  const entries = readJournal(root);
  const full: CleanEntry = { id: Math.max(0, ...entries.map((e) => e.id)) + 1, at: new Date().toISOString(), ...entry };
  writeJournal(root, [...entries, full]);
  return full;
}

/** A valid class folder name: one plain segment, not hidden, not the excluded folder. */
function checkClassName(name: string): void {
  const bad = !name || name !== basename(name) || name.includes('\\') || name.startsWith('.');
  if (bad || name === EXCLUDED_FOLDER) throw new CleanerError(`Not a class name: "${name}"`);
}

/** Move `file` into the class folder `toClass` (same split, same sub-folders); the folder must exist. */
export function relabel(dir: string, file: string, toClass: string): CleanEntry {
  const root = rootOf(dir);
  checkClassName(toClass);
  const parts = imageIn(root, file);
  const i = classIndex(parts);
  const fromClass = parts[i]!;
  if (fromClass === toClass) throw new CleanerError(`${basename(file)} is already in "${toClass}".`);
  const classDir = join(root, ...parts.slice(0, i), toClass);
  const st = existsSync(classDir) ? lstatSync(classDir) : null;
  if (!st?.isDirectory()) throw new CleanerError(`No class folder "${toClass}" in ${join(root, ...parts.slice(0, i))}`);
  const src = join(root, ...parts);
  const moved = moveNoClobber(src, join(classDir, ...parts.slice(i + 1)));
  return record(root, {
    kind: 'relabel',
    from: toPosix(parts.join(sep)),
    to: toPosix(relative(root, moved)),
    fromClass,
    toClass,
  });
}

/** Move `file` to `_excluded/<its path in the dataset>`, out of the class folders (the scan skips it). */
export function exclude(dir: string, file: string): CleanEntry {
  const root = rootOf(dir);
  const parts = imageIn(root, file);
  const fromClass = parts[classIndex(parts)]!;
  const moved = moveNoClobber(join(root, ...parts), join(root, EXCLUDED_FOLDER, ...parts));
  return record(root, {
    kind: 'exclude',
    from: toPosix(parts.join(sep)),
    to: toPosix(relative(root, moved)),
    fromClass,
    toClass: null,
  });
}

/** Undo the newest move still in the journal: the file goes back (under a free name if its old one was taken). */
export function undoLast(dir: string): { undone: CleanEntry; restored: string } | null {
  const root = rootOf(dir);
  const entries = readJournal(root);
  const last = entries[entries.length - 1];
  if (!last) return null;
  const src = fromPosix(root, last.to);
  const back = fromPosix(root, last.from);
  if (!inside(relative(root, src)) || !inside(relative(root, back))) {
    throw new CleanerError(`The undo list in ${join(root, JOURNAL_FILE)} names a path outside the dataset.`);
  }
  const st = existsSync(src) ? lstatSync(src) : null;
  if (!st?.isFile() || !inside(relative(root, join(realpathSync(dirname(src)), basename(src))))) {
    throw new CleanerError(`Cannot undo: ${last.to} is no longer in the dataset folder (moved or deleted since).`);
  }
  const restored = moveNoClobber(src, back);
  writeJournal(root, entries.slice(0, -1));
  return { undone: last, restored: toPosix(relative(root, restored)) };
}
