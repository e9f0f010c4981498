/**
 * Writing an export folder atomically: everything goes into a temporary sibling (`.NAME.tmp-<pid>-<random>`, same
 * parent, so the final rename stays on one file system) that is renamed into place only once complete. A failed or
 * killed export therefore leaves either no folder or a complete one, never half of one.
 *
 * Replacing an existing export (`force`): the old folder is renamed aside (`.NAME.old-<pid>-<random>`), the new one
 * renamed in, then the old one deleted; if the second rename fails the old one is renamed back. Leftovers of a killed
 * export (temporary or set-aside folders whose process is gone) are deleted by the next export to the same folder.
 *
 * Test hook (tests only): `FINETUNE_EXPORT_TEST_PAUSE_MS=N` makes every stage of an export write
 * `export-test-pause: <stage>` to stderr and then sleep N ms, so that a test can SIGKILL the process at a chosen
 * point (test/integration/export.test.ts). Unset, it costs nothing.
 */
import {
  CodedError,
  englishText,
  type Message,
  type MessageCode,
  type MessageParams,
} from '../../../src-shared/messages';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { processAlive } from '../util/processAlive';

/** The export folder exists and is not empty, and replacing it was not asked for. */
/**
 * An export folder refused, as a code (`export.*`): the app says it with its controls ("Replace an earlier export in
 * that folder"), the CLI with its flags (`_cli`: --force, --out). `.message` is the CLI's wording (logs, old callers).
 */
export class ExportTargetError extends CodedError {
  constructor(code: MessageCode, params: MessageParams) {
    super(code, params);
    this.name = 'ExportTargetError';
    this.message = englishText({ code, params }, 'cli');
  }
}

const PAUSE_ENV = 'FINETUNE_EXPORT_TEST_PAUSE_MS';

/** The test hook: announce `stage` on stderr and sleep (only when FINETUNE_EXPORT_TEST_PAUSE_MS is set). */
export async function testPause(stage: string): Promise<void> {
  const ms = Number(process.env[PAUSE_ENV] ?? 0);
  if (!(ms > 0)) return;
  process.stderr.write(`export-test-pause: ${stage}\n`);
  await new Promise((r) => setTimeout(r, ms));
}

const LEFTOVER = /^\.(.+)\.(tmp|old)-(\d+)-[0-9a-f]+$/;

/** Delete `.NAME.tmp-*` / `.NAME.old-*` siblings left by export processes that no longer run. */
export function removeLeftovers(target: string): string[] {
  const parent = dirname(target);
  const name = basename(target);
  const removed: string[] = [];
  for (const entry of readdirSync(parent)) {
    const m = LEFTOVER.exec(entry);
    if (!m || m[1] !== name) continue;
    const pid = Number(m[3]);
    if (pid !== process.pid && processAlive(pid)) continue;
    rmSync(join(parent, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

function sibling(target: string, kind: 'tmp' | 'old'): string {
  return join(dirname(target), `.${basename(target)}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** 'absent', 'empty' (an empty folder) or 'full'; anything but a folder is an error. */
function targetState(target: string): 'absent' | 'empty' | 'full' {
  let isDir: boolean;
  try {
    isDir = lstatSync(target).isDirectory();
  } catch {
    return 'absent';
  }
  if (!isDir) {
    throw new ExportTargetError('export.notAFolder', { path: target });
  }
  return readdirSync(target).length === 0 ? 'empty' : 'full';
}

/** fsync every file and folder below `dir` (and `dir`), so that what is renamed in is on disk. */
function syncTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) syncTree(path);
    else syncPath(path);
  }
  syncPath(dir);
}

function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } catch {
    // Some file systems cannot fsync a folder; the rename is still atomic.
  } finally {
    closeSync(fd);
  }
}

export interface AtomicDirOptions {
  /** Replace a non-empty existing folder. */
  force?: boolean;
  /** Folders the target must not be or contain (e.g. the run being exported): replacing them would delete them. */
  protect?: string[];
  /**
   * Why the target must not be written at all (checked first and again just before the rename), or null: a code
   * whose text names the target as `{{path}}`.
   */
  refuse?: (target: string) => Message | null;
  /** Which existing, non-empty folders `force` may replace (unset: any); others are refused even with force. */
  replaceable?: (existing: string) => boolean;
}

function checkRefusal(target: string, options: AtomicDirOptions): void {
  const refusal = options.refuse?.(target);
  if (refusal) throw new ExportTargetError(refusal.code, { ...refusal.params, path: target });
}

/** Refuses what `options` say must not be written or replaced at `target` (in its current state). */
function checkTarget(target: string, options: AtomicDirOptions): 'absent' | 'empty' | 'full' {
  checkRefusal(target, options);
  const state = targetState(target);
  // Said with or without force: --force would not replace it either.
  if (state === 'full' && options.replaceable && !options.replaceable(target)) {
    throw new ExportTargetError('export.notAnExport', { path: target });
  }
  return state;
}

/**
 * Run `write(tmp)` on a fresh temporary sibling of `target` and rename it into place when it returns. Refuses a
 * non-empty `target` unless `force`. Returns what `write` returned.
 */
export async function writeDirAtomically<T>(
  targetDir: string,
  options: AtomicDirOptions,
  write: (tmp: string) => Promise<T>,
): Promise<T> {
  const target = resolve(targetDir);
  // The app's own folders first, so that the message says which one it is.
  checkRefusal(target, options);
  for (const p of options.protect ?? []) {
    const kept = resolve(p);
    const rel = relative(target, kept);
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
      throw new ExportTargetError('export.holdsProtected', { path: target, kept });
    }
  }
  // Refused before the parent folders are made: a refused export leaves no trace.
  const state = checkTarget(target, options);
  mkdirSync(dirname(target), { recursive: true });
  if (state === 'full' && !options.force) {
    throw new ExportTargetError('export.exists', { path: target });
  }
  removeLeftovers(target);
  const tmp = sibling(target, 'tmp');
  mkdirSync(tmp);
  await testPause('started');
  let result: T;
  try {
    result = await write(tmp);
    syncTree(tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  await testPause('written');
  try {
    await moveIntoPlace(tmp, target, options);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  syncPath(dirname(target));
  return result;
}

async function moveIntoPlace(tmp: string, target: string, options: AtomicDirOptions): Promise<void> {
  // Checked again: another process may have written the folder (or swapped it for a link) meanwhile.
  const state = checkTarget(target, options);
  if (state === 'absent') return renameSync(tmp, target);
  if (state === 'empty') {
    rmdirSync(target);
    return renameSync(tmp, target);
  }
  if (!options.force) {
    throw new ExportTargetError('export.writtenMeanwhile', { path: target });
  }
  const old = sibling(target, 'old');
  renameSync(target, old);
  await testPause('old-aside');
  try {
    renameSync(tmp, target);
  } catch (err) {
    renameSync(old, target);
    throw err;
  }
  await testPause('replaced');
  rmSync(old, { recursive: true, force: true });
}
