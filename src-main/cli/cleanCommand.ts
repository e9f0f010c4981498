/**
 * `finetune clean`: the data cleaner from the command line, on a dataset folder (core/data/cleaner.ts). Every move
 * is recorded in the folder's undo list, shared with the app's results page.
 */
import { resolve } from 'node:path';
import type { CleanEntry } from '../../src-shared/contract';
import { exclude, readJournal, relabel, undoLast } from '../core/data/cleaner';
import { COMMON_OPTIONS, parseOptions, UsageError, type Io } from './args';

const USAGE =
  'finetune clean relabel DIR FILE CLASS | clean exclude DIR FILE | clean undo DIR | clean list DIR [--json]';

const line = (e: CleanEntry) =>
  `#${e.id} ${e.kind === 'relabel' ? `relabel ${e.fromClass} -> ${e.toClass}` : 'exclude'}: ${e.from} -> ${e.to}` +
  (e.pending ? ' (interrupted: undo settles it)' : '');

export async function cleanCommand(argv: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(argv, COMMON_OPTIONS);
  const [sub, rawDir, ...rest] = positionals;
  const arity: Record<string, number> = { relabel: 2, exclude: 1, undo: 0, list: 0 };
  if (sub === undefined || !(sub in arity) || rawDir === undefined || rest.length !== arity[sub]) {
    throw new UsageError(USAGE);
  }
  const dir = resolve(rawDir);
  const print = (json: unknown, text: string[]) => {
    if (values.json) io.out(JSON.stringify(json));
    else for (const l of text) io.out(l);
  };
  if (sub === 'list') {
    const entries = readJournal(dir);
    return print({ dir, entries }, entries.length ? entries.map(line) : ['nothing to undo']);
  }
  if (sub === 'undo') {
    const r = undoLast(dir);
    return print({ dir, undone: r?.undone ?? null, restored: r?.restored ?? null }, [
      r ? `undone ${line(r.undone)}; back at ${r.restored}` : 'nothing to undo',
    ]);
  }
  const entry = sub === 'relabel' ? relabel(dir, resolve(rest[0]!), rest[1]!) : exclude(dir, resolve(rest[0]!));
  print({ dir, entry }, [line(entry)]);
}
