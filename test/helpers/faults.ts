/**
 * The fault tests' tools: the real CLI in a child process stopped by a signal after its Nth epoch line, and what must
 * hold of a history and a checkpoint after any stop (SQLite's integrity check, a complete checkpoint).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { spawnFinetune } from './cli';
import { CHECKPOINT_DIR, readCheckpointState, type RecipeState } from '../../src-main/core/recipe/checkpoint';

/** One epoch as the CLI prints it on stderr: "  step3-head epoch 1  train loss … valid loss 0.8770 …". */
export interface EpochLine {
  step: string;
  /** 0-based, as the history stores it. */
  epoch: number;
  validLoss: string;
}

const EPOCH_LINE = /^ {2}(step\d-[\w-]+) epoch (\d+) .* valid loss ([\d.]+|NaN) /;

export function epochLines(stderr: string): EpochLine[] {
  return stderr.split('\n').flatMap((line) => {
    const m = EPOCH_LINE.exec(line);
    return m ? [{ step: m[1]!, epoch: Number(m[2]) - 1, validLoss: m[3]! }] : [];
  });
}

export interface Stopped {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Whether our signal was sent (false: the process ended before the Nth epoch line). */
  sent: boolean;
}

/**
 * Runs `finetune ARGS`; after its `afterEpochs`-th epoch line on stderr (of `step` only, when given) sends `signal`
 * (none: runs to the end, or until a FINETUNE_FAULT hook ends it).
 */
export function runCli(
  args: string[],
  env: Record<string, string>,
  stop?: { afterEpochs: number; signal: NodeJS.Signals; step?: string },
): Promise<Stopped> {
  return new Promise((resolve) => {
    const child = spawnFinetune(args, env);
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Only whole lines count: the epoch line is printed after its row is in the history.
      const complete = stderr.slice(0, stderr.lastIndexOf('\n') + 1);
      const counted = epochLines(complete).filter((l) => stop?.step === undefined || l.step === stop.step);
      if (stop && !sent && counted.length >= stop.afterEpochs) {
        sent = true;
        child.kill(stop.signal);
      }
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, sent }));
  });
}

/** `PRAGMA integrity_check` of a SQLite file, read-only: 'ok' or SQLite's list of problems. */
export function integrityCheck(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return (db.pragma('integrity_check') as Array<{ integrity_check: string }>)
      .map((r) => r.integrity_check)
      .join('; ');
  } finally {
    db.close();
  }
}

/**
 * The checkpoint a resume would read, checked complete: its state parses and its model folder has both files. It is
 * `checkpoint/`, or `checkpoint.old/` after a kill between the renames; `checkpoint.tmp/` is never it.
 */
export function completeCheckpoint(runDir: string): { dir: string; state: RecipeState } {
  const state = readCheckpointState(runDir);
  const final = join(runDir, CHECKPOINT_DIR);
  const dir = existsSync(join(final, 'state.json')) ? final : `${final}.old`;
  for (const f of ['model/model.json', 'model/weights.bin'])
    if (!existsSync(join(dir, f))) throw new Error(`${dir} lacks ${f}`);
  return { dir, state };
}
