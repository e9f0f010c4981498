/**
 * The data cleaner (fastai v2's ImageClassifierCleaner, Lobe's corrections): move an image to another class folder
 * (relabel) or out of the class folders into `_excluded/` (exclude), and undo those moves one by one, newest first.
 *
 * The user's files stay safe: nothing is ever overwritten (a name clash gets a " (2)" suffix; the no-overwrite is
 * atomic: a hard link, or a copy with COPYFILE_EXCL where links are not possible), nothing is deleted, files move
 * only inside the dataset folder (a link anywhere on the source or destination path refuses the move, see
 * cleanerPaths.ts), and a relabel goes only into a class folder that exists. Every move is recorded in a journal in
 * the dataset folder (a hidden file the scan ignores), written atomically, so the undo list survives a restart and is
 * shared by the app and the CLI. The entry is written before the move (pending, naming the exact destination) and
 * confirmed after, so a crash in between leaves an entry that undo settles from what is on disk.
 */
import { copyFileSync, constants, existsSync, linkSync, readFileSync, renameSync } from 'node:fs';
import { unlinkSync, writeFileSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { z } from 'zod';
import { CleanEntry } from '../../../src-shared/runSchemas';
import { readJsonFile } from '../util/json';
import { faultAt, killSelf } from '../util/fault';
import { EXCLUDED_FOLDER, TRAIN_NAMES, VALID_NAMES } from './dataset';
import { CleanerError, imageIn, lstatOrNull, plainPath, rootOf, segmentsOf, toPosix } from './cleanerPaths';

export { EXCLUDED_FOLDER, CleanerError };
export const JOURNAL_FILE = '.finetune-cleaner.json';

const Journal = z.object({ version: z.literal(1), entries: z.array(CleanEntry) });
type Journal = z.infer<typeof Journal>;

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

/** A second name for `src` at `target`, never replacing a file there; false when `target` is taken. */
function linkExclusive(src: string, target: string): boolean {
  try {
    linkSync(src, target);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
  }
  // No hard links here (another device, FAT, some network shares): an exclusive copy.
  try {
    copyFileSync(src, target, constants.COPYFILE_EXCL);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

type Move = Pick<CleanEntry, 'kind' | 'fromClass' | 'toClass'>;

/**
 * Moves the image at `from` (segments from the root) to the first free name of `dest`, folders made as needed and
 * none of them a link, journaled: the entry is written first (pending, naming the exact destination), then the file
 * is linked there, unlinked from its old name, and the entry confirmed. Test hooks (FINETUNE_FAULT, util/fault.ts):
 * `cleaner-after-intent`, `cleaner-after-link`, `cleaner-after-move` end the process at those points.
 */
function journaledMove(root: string, from: string[], dest: string[], move: Move): CleanEntry {
  const src = plainPath(root, from, { file: true, create: false });
  const destDir = plainPath(root, dest.slice(0, -1), { file: false, create: true });
  const entries = readJournal(root);
  const base = { id: Math.max(0, ...entries.map((e) => e.id)) + 1, at: new Date().toISOString(), ...move };
  try {
    for (let n = 1; n < 10000; n++) {
      const target = candidate(join(destDir, dest[dest.length - 1]!), n);
      if (lstatOrNull(target)) continue;
      const entry: CleanEntry = { ...base, from: from.join('/'), to: toPosix(relative(root, target)) };
      writeJournal(root, [...entries, { ...entry, pending: true }]);
      if (faultAt('cleaner-after-intent')) killSelf();
      // Taken since the check: the next name, with the intent rewritten.
      if (!linkExclusive(src, target)) continue;
      if (faultAt('cleaner-after-link')) killSelf();
      unlinkSync(src);
      if (faultAt('cleaner-after-move')) killSelf();
      writeJournal(root, [...entries, entry]);
      return entry;
    }
  } catch (err) {
    // Nothing moved (the link or copy failed): the intent goes.
    if (existsSync(src)) writeJournal(root, entries);
    throw err;
  }
  writeJournal(root, entries);
  throw new CleanerError(`No free name for ${dest.join('/')}`);
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
  const classParts = [...parts.slice(0, i), toClass];
  if (!lstatOrNull(join(root, ...classParts)))
    throw new CleanerError(`No class folder "${toClass}" in ${join(root, ...parts.slice(0, i))}`);
  plainPath(root, classParts, { file: false, create: false });
  return journaledMove(root, parts, [...classParts, ...parts.slice(i + 1)], { kind: 'relabel', fromClass, toClass });
}

/** Move `file` to `_excluded/<its path in the dataset>`, out of the class folders (the scan skips it). */
export function exclude(dir: string, file: string): CleanEntry {
  const root = rootOf(dir);
  const parts = imageIn(root, file);
  const fromClass = parts[classIndex(parts)]!;
  return journaledMove(root, parts, [EXCLUDED_FOLDER, ...parts], { kind: 'exclude', fromClass, toClass: null });
}

/** Whether `a` and `b` are one file (two names of it) or, for a copy, hold the same bytes. */
function sameFile(a: string, b: string): boolean {
  const sa = lstatOrNull(a);
  const sb = lstatOrNull(b);
  if (!sa?.isFile() || !sb?.isFile()) return false;
  if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
  return sa.size === sb.size && readFileSync(a).equals(readFileSync(b));
}

/**
 * Undo the newest move still in the journal: the file goes back (under a free name if its old one was taken). A move
 * a crash interrupted is settled from the disk: not made yet (only the old name exists), half made (both names: the
 * new one goes), or made (moved back like any other).
 */
export function undoLast(dir: string): { undone: CleanEntry; restored: string } | null {
  const root = rootOf(dir);
  const entries = readJournal(root);
  const last = entries[entries.length - 1];
  if (!last) return null;
  const to = segmentsOf(root, last.to);
  const from = segmentsOf(root, last.from);
  if (!to || !from) {
    throw new CleanerError(`The undo list in ${join(root, JOURNAL_FILE)} names a path outside the dataset.`);
  }
  const toPath = join(root, ...to);
  const fromPath = join(root, ...from);
  const done = () => {
    writeJournal(root, entries.slice(0, -1));
    return { undone: last, restored: last.from };
  };
  const fromThere = lstatOrNull(fromPath)?.isFile() ?? false;
  const toThere = lstatOrNull(toPath) !== null;
  if (last.pending && fromThere && !toThere) return done();
  // A move (or an undo) cut short between its link and its unlink: the file has both names; drop the new one.
  if (fromThere && toThere && (last.pending || sameFile(toPath, fromPath))) {
    plainPath(root, to, { file: true, create: false });
    if (!sameFile(toPath, fromPath))
      throw new CleanerError(
        `Cannot undo #${last.id}: the interrupted move left ${last.from} (the image) and ${last.to}, which differs ` +
          `from it (an incomplete copy). Delete ${last.to}, then undo again.`,
      );
    unlinkSync(toPath);
    return done();
  }
  if (!toThere) {
    const why = last.pending ? ' The move was interrupted and neither name holds the file now.' : '';
    throw new CleanerError(
      `Cannot undo: ${last.to} is no longer in the dataset folder (moved or deleted since).${why}`,
    );
  }
  const restored = moveBack(root, to, from);
  writeJournal(root, entries.slice(0, -1));
  return { undone: last, restored };
}

/** Moves `to` back to the first free name of `from` (no link on either path); returns where it went. */
function moveBack(root: string, to: string[], from: string[]): string {
  const src = plainPath(root, to, { file: true, create: false });
  const backDir = plainPath(root, from.slice(0, -1), { file: false, create: true });
  for (let n = 1; n < 10000; n++) {
    const target = candidate(join(backDir, from[from.length - 1]!), n);
    if (lstatOrNull(target) || !linkExclusive(src, target)) continue;
    unlinkSync(src);
    return toPosix(relative(root, target));
  }
  throw new CleanerError(`No free name for ${from.join('/')}`);
}
