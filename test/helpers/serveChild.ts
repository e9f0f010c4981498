/**
 * A real `finetune serve` in a child process, for tests that try to crash it: if a request ends the process, the
 * test sees the exit and its stderr instead of dying with it. A stand-in page (one index.html) is served, the
 * backend is `cpu` (nothing here trains) and the working directory is an empty folder, so a relative path in a
 * request resolves to nothing of the repository's.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { ROOT } from './cli';
import { bridgeClient, connect } from './bridgeClient';

export interface ServeChild {
  port: number;
  token: string;
  home: string;
  /** `ws://127.0.0.1:PORT/ws?token=…` */
  wsUrl: string;
  child: ChildProcessWithoutNullStreams;
  /** Everything the server wrote to stderr so far. */
  stderr: () => string;
  /** Throws, with its stderr, if the server has exited. */
  assertAlive: (when: string) => void;
  stop: () => Promise<void>;
}

export async function startServeChild(): Promise<ServeChild> {
  const work = mkdtempSync(join(tmpdir(), 'ft-serve-'));
  const renderer = join(work, 'renderer');
  const cwd = join(work, 'cwd');
  mkdirSync(renderer);
  mkdirSync(cwd);
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>stand-in</title>');
  const home = join(work, 'home');
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/finetune.mjs'), 'serve', '--home', home, '--backend', 'cpu', '--renderer-dir', renderer],
    { cwd },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<URL>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(out);
      if (m) resolve(new URL(m[0]));
    });
    child.on('exit', (code) =>
      reject(new Error(`finetune serve exited (${code}) before printing its URL: ${out}${err}`)),
    );
  });
  const port = Number(url.port);
  const token = url.searchParams.get('token')!;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    port,
    token,
    home,
    wsUrl: `ws://127.0.0.1:${port}/ws?token=${token}`,
    child,
    stderr: () => err,
    assertAlive(when) {
      if (exited()) {
        throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) ${when}; its stderr:\n${err}`);
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited()) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A fresh client gets an answer to a valid request, and the process is still the one we started. */
export async function stillAnswers(s: ServeChild, when: string): Promise<void> {
  try {
    const ws = await connect(s.wsUrl);
    const reply = await bridgeClient(ws).call('runs.list', {});
    ws.close();
    assert.equal(reply.ok, true, JSON.stringify(reply));
  } catch (err) {
    throw new Error(`no answer ${when}: ${String(err)}; server stderr:\n${s.stderr()}`, { cause: err });
  }
  s.assertAlive(when);
}
