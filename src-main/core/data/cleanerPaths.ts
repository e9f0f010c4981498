/**
 * The data cleaner's path checks: every path it moves a file from or to is walked component by component from the
 * dataset folder's real path, and a link anywhere on it (a linked `_excluded`, class or sub-folder) refuses the move,
 * so no image can leave the folder through one. The dataset folder itself may be reached through a link.
 */
import { lstatSync, mkdirSync, realpathSync, type Stats } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { EXCLUDED_FOLDER } from './dataset';

export class CleanerError extends Error {}

export const toPosix = (rel: string) => rel.split(sep).join('/');

export const lstatOrNull = (path: string): Stats | null => {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
};

const realOrNull = (path: string): string | null => {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
};

/** The dataset folder's real path (the one every move is checked against). */
export function rootOf(dir: string): string {
  const root = realOrNull(dir);
  if (root && lstatOrNull(root)?.isDirectory()) return root;
  throw new CleanerError(`Not a dataset folder: ${dir}`);
}

/** Path segments (from a journal's posix path) that stay strictly inside the root: no `..`, no empty or absolute. */
export function segmentsOf(root: string, rel: string): string[] | null {
  const parts = rel.split('/');
  const bad = parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes(sep));
  return bad || relative(root, join(root, ...parts)).startsWith('..') ? null : parts;
}

/**
 * Checks, component by component from the real root, that `parts` names a path with no link anywhere on it: every
 * folder a real folder (missing ones made one at a time when `create`), the last part a regular file when `file`
 * (which must exist unless `create`). Returns the absolute path.
 */
export function plainPath(root: string, parts: string[], opts: { file: boolean; create: boolean }): string {
  let path = root;
  for (const [i, part] of parts.entries()) {
    path = join(path, part);
    const shown = toPosix(relative(root, path));
    let st = lstatOrNull(path);
    if (st?.isSymbolicLink())
      throw new CleanerError(`${shown} in ${root} is a link: the cleaner moves nothing through links.`);
    if (i === parts.length - 1 && opts.file) {
      if (st && !st.isFile()) throw new CleanerError(`Not a regular file (folders are not moved): ${shown}`);
      if (!st && !opts.create) throw new CleanerError(`No such image: ${shown}`);
      return path;
    }
    if (!st && opts.create) {
      mkdirSync(path);
      st = lstatSync(path);
    }
    if (!st?.isDirectory()) throw new CleanerError(`${shown} in ${root} is not a folder.`);
  }
  return path;
}

/**
 * An image of the dataset as its path segments from the root. `file` is absolute, or relative to the dataset folder
 * (as interpretations name the validation images); the path may reach the dataset folder through a link (its real
 * path is the root), below it no part may be one.
 */
export function imageIn(root: string, file: string): string[] {
  const abs = resolve(root, file);
  const st = lstatOrNull(abs);
  if (!st) throw new CleanerError(`No such image: ${file}`);
  if (!st.isFile()) throw new CleanerError(`Not a regular file (links and folders are not moved): ${file}`);
  const parts = [basename(abs)];
  let up = dirname(abs);
  while (realOrNull(up) !== root) {
    if (dirname(up) === up) throw new CleanerError(`${file} is not inside the dataset folder ${root}.`);
    parts.unshift(basename(up));
    up = dirname(up);
  }
  if (parts[0] === EXCLUDED_FOLDER) throw new CleanerError(`${file} is already excluded.`);
  plainPath(root, parts, { file: true, create: false });
  return parts;
}
