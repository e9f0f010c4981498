import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run the real `finetune` CLI (bin/finetune.mjs) in a child process. */
export function finetune(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, ['bin/finetune.mjs', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 600_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The last line of stdout parsed as JSON (commands with --json end with one JSON object). */
export function lastJson<T>(r: CliResult): T {
  const lines = r.stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]!) as T;
  } catch {
    throw new Error(`No JSON on stdout (exit ${r.status}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** The real `finetune` CLI started in a child process (its output piped), for a test that watches it run. */
export function spawnFinetune(args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['bin/finetune.mjs', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
}

/** Like `finetune`, without blocking this process's event loop (needed when the test itself serves HTTP). */
export function finetuneAsync(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawnFinetune(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

/** A fresh folder for a CLI test: its app home (passed as FINETUNE_HOME in `env`) and a place for the images. */
export function cliWorkspace(prefix: string): {
  work: string;
  home: string;
  data: string;
  env: Record<string, string>;
} {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const home = join(work, 'home');
  return { work, home, data: join(work, 'shapes'), env: { FINETUNE_HOME: home } };
}
