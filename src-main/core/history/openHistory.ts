/**
 * Opening the run history file safely. A new history is made under a temporary name and linked into place, so no
 * other process ever sees it empty: a zero-byte history.sqlite is damage, not a file being created. A damaged file
 * (zero bytes, not SQLite, failing SQLite's quick check) is moved aside as `history.sqlite.corrupt-<time>` with its
 * -wal/-shm files, never deleted, and a new history is started with a notice saying so. A history from a newer
 * version of the app is left untouched and refused.
 */
import Database from 'better-sqlite3';
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { SCHEMA_VERSION } from './migrations';

/** The history cannot be used (newer version, no permission): the message names the file and what to do. */
export class HistoryError extends Error {
  constructor(
    readonly path: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HistoryError';
  }
}

export interface OpenedHistory {
  db: Database.Database;
  /** What happened to a damaged history (moved aside, a new one started), for the user; null when all was well. */
  notice: string | null;
}

/** Seconds a connection waits for another process's write to finish before giving up (SQLITE_BUSY). */
export const BUSY_TIMEOUT_MS = 5000;

const SIDECARS = ['-wal', '-shm'] as const;
const DAMAGE_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

type Options = { nativeBinding?: string };

const connect = (path: string, options: Options) => {
  const db = new Database(path, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
  // First, so that even the checks below wait for a writer in another process instead of failing.
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return db;
};

/** Creates an empty WAL history at `path` unless one appeared meanwhile (another process won the race). */
function createAtomically(path: string, options: Options): void {
  const tmp = `${path}.new-${process.pid}`;
  const db = connect(tmp, options);
  db.pragma('journal_mode = WAL');
  db.close();
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    for (const f of [tmp, ...SIDECARS.map((s) => tmp + s)]) rmSync(f, { force: true });
  }
}

/** Moves a damaged history and its -wal/-shm files aside; returns the new name. */
function moveAside(path: string): string {
  const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  for (const s of SIDECARS) if (existsSync(path + s)) renameSync(path + s, aside + s);
  try {
    renameSync(path, aside);
  } catch (err) {
    // Another process moved it first.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return aside;
}

/** Why the file at `path` is unusable as a history, or null when it opens and passes the quick check. */
function damage(path: string, options: Options): { why: string } | { db: Database.Database } {
  if (statSync(path).size === 0) return { why: 'it is empty (0 bytes)' };
  let db: Database.Database | null = null;
  try {
    db = connect(path, options);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      db.close();
      throw new HistoryError(
        path,
        `The run history ${path} was written by a newer Finetune Studio (schema ${version}, this version reads up ` +
          `to ${SCHEMA_VERSION}). It was left untouched: update the app, or use --home to point at another folder.`,
      );
    }
    const check = (db.pragma('quick_check(1)') as Array<{ quick_check: string }>)[0]?.quick_check;
    if (check !== 'ok') {
      db.close();
      return { why: `SQLite's check failed: ${check}` };
    }
    return { db };
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!DAMAGE_CODES.has(code)) {
      db?.close();
      if (err instanceof HistoryError) throw err;
      throw new HistoryError(path, `Cannot open the run history ${path}: ${(err as Error).message}`, { cause: err });
    }
    db?.close();
    return {
      why: code === 'SQLITE_NOTADB' ? 'it is not a SQLite database' : `it is damaged (${(err as Error).message})`,
    };
  }
}

/** The history at `path` open in WAL mode with a busy timeout; a damaged one moved aside and replaced by a new one. */
export function openHistoryDb(path: string, options: Options = {}): OpenedHistory {
  mkdirSync(dirname(path), { recursive: true });
  let notice: string | null = null;
  if (!existsSync(path)) createAtomically(path, options);
  let found = damage(path, options);
  if ('why' in found) {
    const aside = moveAside(path);
    notice =
      `The run history ${path} could not be read (${found.why}). It was moved to ${aside} (nothing was deleted) ` +
      `and a new, empty history was started.`;
    createAtomically(path, options);
    found = damage(path, options);
    if ('why' in found) throw new HistoryError(path, `Cannot start a new run history at ${path}: ${found.why}`);
  }
  found.db.pragma('journal_mode = WAL');
  found.db.pragma('foreign_keys = ON');
  return { db: found.db, notice };
}

/**
 * A read-only copy in memory of the history at `path`, for listing where the file cannot be opened for writing (a
 * read-only home, a full disk): SQLite needs to write the -shm file to read a WAL database in place. Its header is
 * set to rollback mode (SQLite opens no WAL database from memory); what only history.sqlite-wal holds is not seen,
 * which the caller says when that file is not empty.
 */
export function openHistorySnapshot(path: string, options: Options = {}): Database.Database {
  let bytes: Buffer;
  try {
    bytes = Buffer.from(readFileSync(path));
  } catch (err) {
    throw new HistoryError(path, `Cannot read the run history ${path}: ${(err as Error).message}`, { cause: err });
  }
  // Bytes 18 and 19: the file format's write and read versions, 2 for WAL, 1 for a rollback journal.
  if (bytes.length >= 100 && bytes[18] === 2 && bytes[19] === 2) bytes.fill(1, 18, 20);
  const db = new Database(bytes, {
    readonly: true,
    ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
  });
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== SCHEMA_VERSION) {
    db.close();
    throw new HistoryError(
      path,
      `The run history ${path} has schema ${version}, this version reads ${SCHEMA_VERSION} read-only: open it once ` +
        `where it can be written (the app upgrades it), or update the app.`,
    );
  }
  return db;
}
