/**
 * Errors of a disk that is full or cannot be written, from Node (ENOSPC, EROFS, …) or SQLite (SQLITE_FULL,
 * SQLITE_READONLY, …), found anywhere in an error's cause chain, and what to tell the user about them.
 */

/** The `code` of `err` and of every error in its `cause` chain (only its own with `deep` false). */
function codesOf(err: unknown, deep = true): string[] {
  const codes: string[] = [];
  const depth = deep ? 8 : 1;
  for (let e = err, d = 0; e && typeof e === 'object' && d < depth; e = (e as { cause?: unknown }).cause, d++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

/**
 * The disk is full (or the user's quota is spent). `deep` false: only when `err` itself says so, not an error that
 * wraps one with its own message (a checkpoint's "Could not save … the disk is full") and says enough already.
 */
export function isDiskFull(err: unknown, deep = true): boolean {
  return codesOf(err, deep).some((c) => c === 'ENOSPC' || c === 'EDQUOT' || c === 'SQLITE_FULL');
}

/** The file or its folder cannot be written: read-only, no permission, full, or SQLite cannot open it for writing. */
export function isUnwritable(err: unknown): boolean {
  const prefixes = ['SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR'];
  return (
    isDiskFull(err) ||
    codesOf(err).some((c) => ['EROFS', 'EACCES', 'EPERM'].includes(c) || prefixes.some((p) => c.startsWith(p)))
  );
}

/** What to say when the disk holding `home` is full: where, and what frees space. */
export function diskFullMessage(home: string, err: unknown): string {
  const what = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return (
    `The disk holding ${home} is full (${what}). Free space there (delete old runs with "finetune runs rm RUN_ID ` +
    `--yes", or exports you no longer need), or use --home on another disk, then run again. Files that were being ` +
    `written were left whole or not at all.`
  );
}
