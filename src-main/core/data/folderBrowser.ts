/**
 * A folder browser for the browser UI, which cannot open the system's folder dialog: the sub-folders of one folder
 * under the user's home directory (or of a recent dataset folder), never file contents. Hidden folders and links are
 * not listed (a link could lead out of the allowed roots); the number of images directly inside each folder is
 * counted so that the user can tell a class folder from a dataset folder. Bounded: at most MAX_FOLDERS listed.
 */
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { CodedError } from '../../../src-shared/messages';
import { isImageFile } from './images';

export const MAX_FOLDERS = 500;

export interface FolderEntry {
  name: string;
  path: string;
  /** Images directly inside (not in sub-folders), at most MAX_COUNTED. */
  images: number;
}

export interface FolderListing {
  dir: string;
  /** The folder above, when it is still inside an allowed root; null at a root. */
  parent: string | null;
  folders: FolderEntry[];
  /** More sub-folders than MAX_FOLDERS: the first ones by name are listed. */
  truncated: boolean;
  /** Images directly in `dir`: a dataset folder has none (its images are in class folders). */
  images: number;
}

/** Why a folder cannot be listed, as a code the browser says in the user's language. */
export class FolderBrowseError extends CodedError {
  override name = 'FolderBrowseError';
}

const MAX_COUNTED = 10_000;

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

const imageCount = (list: Dirent[]) =>
  Math.min(MAX_COUNTED, list.filter((e) => e.isFile() && isImageFile(e.name)).length);

const inside = (path: string, root: string) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/**
 * Lists `dir` (default: the home directory). Allowed: the home directory and everything under it, and each of
 * `recent` (recent dataset folders) and what is under those, compared by real path.
 */
export function listFolders(
  dir: string | undefined,
  recent: readonly string[],
  home: string = homedir(),
): FolderListing {
  const realOrNull = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return null;
    }
  };
  const roots = [home, ...recent].map(realOrNull).filter((p): p is string => p !== null);
  const asked = resolve(dir ?? home);
  const target = realOrNull(asked);
  if (!target) throw new FolderBrowseError('browse.notFound', { path: asked });
  if (!statSync(target).isDirectory()) throw new FolderBrowseError('browse.notAFolder', { path: asked });
  const root = roots.filter((r) => inside(target, r)).sort((a, b) => a.length - b.length)[0];
  if (root === undefined) {
    throw target === asked
      ? new FolderBrowseError('browse.outsideHome', { path: target })
      : new FolderBrowseError('browse.linkOutsideHome', { path: asked, target });
  }
  let list: Dirent[];
  try {
    list = readdirSync(target, { withFileTypes: true });
  } catch (err) {
    const denied = ['EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '');
    throw new FolderBrowseError(denied ? 'browse.permission' : 'browse.cannotList', { path: target });
  }
  const folders = list
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b));
  return {
    dir: target,
    parent: target === root ? null : dirname(target),
    folders: folders.slice(0, MAX_FOLDERS).map((name) => {
      const path = join(target, name);
      return { name: basename(path), path, images: imageCount(entries(path)) };
    }),
    truncated: folders.length > MAX_FOLDERS,
    images: imageCount(list),
  };
}
