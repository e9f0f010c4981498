/**
 * One app instance per home: the Electron app and `finetune serve` hold HOME/instance.lock (pid, host, start time)
 * while they run, so a second one on the same home says clearly that another instance is running instead of both
 * owning the same history and run folders. CLI commands do not take it: they share the history with the app by
 * design (SQLite's WAL and busy timeout). A lock whose process is gone (kill -9, crash) is stale and taken over; on
 * Linux a pid reused by a younger process is recognised by its start time.
 */
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { processAlive } from './util/processAlive';

export const LOCK_FILE = 'instance.lock';

const LockInfo = z.object({ pid: z.number().int(), host: z.string(), startedAt: z.string(), what: z.string() });
export type LockInfo = z.infer<typeof LockInfo>;

export class HomeLockedError extends Error {
  constructor(
    readonly home: string,
    readonly lockPath: string,
    readonly holder: LockInfo,
  ) {
    super(
      `Another Finetune Studio (${holder.what}, pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}) is ` +
        `using ${home}. Close it first, or use --home to pick another folder. If none is running, delete ${lockPath}.`,
    );
    this.name = 'HomeLockedError';
  }
}

export interface HomeLock {
  readonly path: string;
  readonly info: LockInfo;
  /** Removes the lock file if it is still ours. Also done at process exit. */
  release(): void;
}

/** The lock's content (info null: not a lock we can read), or null when there is no file. */
function readLock(path: string): { raw: string; info: LockInfo | null } | null {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = LockInfo.safeParse(JSON.parse(raw));
    return { raw, info: parsed.success ? parsed.data : null };
  } catch {
    return { raw, info: null };
  }
}

/** When process `pid` started (ms since the epoch), from /proc on Linux; null where that cannot be read. */
export function processStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime, clock ticks since boot), counted after the parenthesised command name.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    // USER_HZ is 100 on every Linux Node.js runs on.
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + ticks * 10 : null;
  } catch {
    return null;
  }
}

/** Whether a lock still belongs to a running instance. Another host's lock is respected: its pid cannot be checked. */
export function lockIsLive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true;
  // Our own pid in a lock we do not hold: left by an earlier process that had the same pid (containers).
  if (info.pid === process.pid || !processAlive(info.pid)) return false;
  const started = processStartMs(info.pid);
  // A process that started after the lock was written is not its writer: the pid was reused (1 s for rounding).
  return started === null || started <= Date.parse(info.startedAt) + 1000;
}

/** Takes HOME's instance lock for `what` ("the app", "finetune serve"), or throws HomeLockedError. */
export function acquireHomeLock(home: string, what: string): HomeLock {
  mkdirSync(home, { recursive: true });
  const path = join(home, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), what };
  const text = JSON.stringify(info);
  for (let attempt = 0; attempt < 5; attempt++) {
    // Written whole under a private name, then linked into place (fails if it exists): never seen half-written.
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    try {
      linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = readLock(path);
      if (held?.info && lockIsLive(held.info)) throw new HomeLockedError(home, path, held.info);
      // Stale or unreadable: remove it unless it changed meanwhile (someone else took over first).
      if (held && readLock(path)?.raw === held.raw) rmSync(path, { force: true });
      continue;
    } finally {
      rmSync(tmp, { force: true });
    }
    const release = () => {
      if (readLock(path)?.raw === text) rmSync(path, { force: true });
    };
    process.once('exit', release);
    return {
      path,
      info,
      release: () => {
        process.off('exit', release);
        release();
      },
    };
  }
  throw new Error(`Could not take the instance lock ${path}: it keeps changing. Is another instance starting?`);
}
