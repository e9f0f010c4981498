/**
 * One app instance per home (core/homeLock.ts), with real processes: a live holder is refused with a message naming
 * it and the lock file, a holder killed with -9 leaves a stale lock that the next instance takes over, a clean exit
 * removes the lock, a pid reused by a younger process does not count as the holder, and a second real
 * `finetune serve` on the same home exits 1 saying another instance is running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { finetuneAsync, ROOT } from '../helpers/cli';
import { acquireHomeLock, HomeLockedError, LOCK_FILE, processStartMs } from '../../src-main/core/homeLock';
import { tmp } from './build';

/** Starts a child and resolves once it printed `ready` on stdout. */
function startChild(args: string[], ready: RegExp): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, args, { cwd: ROOT });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) resolve(child);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before ${ready}: ${out}${err}`)));
  });
}

const holder = (home: string) => startChild(['--import', 'tsx', 'test/helpers/lock-holder.ts', home], /locked\n/);
const ended = (child: ChildProcessWithoutNullStreams) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode ? resolve() : child.on('exit', () => resolve()),
  );

test('a live holder: refused, naming the holder, the home and the lock file', async () => {
  const home = tmp();
  const child = await holder(home);
  try {
    assert.throws(
      () => acquireHomeLock(home, 'the app'),
      (e: Error) => {
        assert.ok(e instanceof HomeLockedError);
        assert.equal(e.holder.pid, child.pid);
        assert.equal(
          e.message,
          `Another Finetune Studio (lock-holder, pid ${child.pid} on ${hostname()}, started ${e.holder.startedAt}) is ` +
            `using ${home}. Close it first, or use --home to pick another folder. If none is running, delete ` +
            `${join(home, LOCK_FILE)}.`,
        );
        return true;
      },
    );
  } finally {
    child.kill('SIGTERM');
    await ended(child);
  }
  assert.ok(!existsSync(join(home, LOCK_FILE)), 'a clean exit removes the lock');
  acquireHomeLock(home, 'the app').release();
});

test('a holder killed with -9: its stale lock is taken over', async () => {
  const home = tmp();
  const child = await holder(home);
  child.kill('SIGKILL');
  await ended(child);
  const path = join(home, LOCK_FILE);
  assert.equal((JSON.parse(readFileSync(path, 'utf8')) as { pid: number }).pid, child.pid, 'left behind');
  const lock = acquireHomeLock(home, 'the app');
  assert.equal((JSON.parse(readFileSync(path, 'utf8')) as { pid: number }).pid, process.pid);
  lock.release();
  assert.ok(!existsSync(path));
});

test('an unreadable lock file is taken over; a lock from a pid reused by a younger process is stale', async () => {
  const home = tmp();
  const path = join(home, LOCK_FILE);
  writeFileSync(path, '{"pid": 12');
  acquireHomeLock(home, 'the app').release();

  const child = await holder(tmp());
  try {
    if (processStartMs(child.pid!) === null) return; // Not Linux: start times cannot be read.
    const lock = (startedAt: string) => JSON.stringify({ pid: child.pid, host: hostname(), startedAt, what: 'x' });
    writeFileSync(path, lock('2001-01-01T00:00:00.000Z'));
    acquireHomeLock(home, 'the app').release();
    // The same live pid with a start time after the process's own: its real holder, respected.
    writeFileSync(path, lock(new Date().toISOString()));
    assert.throws(() => acquireHomeLock(home, 'the app'), HomeLockedError);
  } finally {
    child.kill('SIGTERM');
    await ended(child);
  }
});

test('a second finetune serve on the same home exits 1 saying another instance runs; after kill -9 one starts', async () => {
  const home = tmp();
  // A stand-in page: this suite runs before the build (npm test builds the renderer for the e2e tests only).
  const page = tmp();
  writeFileSync(join(page, 'index.html'), '<!doctype html><title>stand-in</title>');
  const args = ['serve', '--home', home, '--port', '0', '--renderer-dir', page];
  const serve = ['bin/finetune.mjs', ...args];
  const first = await startChild(serve, /http:\/\/127\.0\.0\.1:\d+/);
  try {
    const second = await finetuneAsync(args);
    assert.equal(second.status, 1, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(
        `^finetune serve: Another Finetune Studio \\(finetune serve, pid ${first.pid} on .*\\) is using `,
        'm',
      ),
    );
  } finally {
    first.kill('SIGKILL');
    await ended(first);
  }
  const third = await startChild(serve, /http:\/\/127\.0\.0\.1:\d+/);
  assert.equal((JSON.parse(readFileSync(join(home, LOCK_FILE), 'utf8')) as { pid: number }).pid, third.pid);
  third.kill('SIGTERM');
  await ended(third);
  assert.ok(!existsSync(join(home, LOCK_FILE)), 'serve removes its lock when it stops');
});
