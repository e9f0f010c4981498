/**
 * The command line's edge cases from issue 22, through the real `finetune`: a hexadecimal number is refused (it was
 * taken as 16), a negative value after a flag gets the flag's own message (it got Node's "argument is ambiguous"),
 * an impossible or busy port is a clear error (it was a raw Node error), and `finetune runs | head` ends quietly
 * (it printed an EPIPE stack trace).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliWorkspace, finetuneAsync, ROOT } from '../helpers/cli';
import { makeShapeDataset } from '../helpers/images';
import { RunStore } from '../../src-main/core/history/runStore';

const { work, home, data, env } = cliWorkspace('ft-cli-usage-');
await makeShapeDataset(data, { perClass: 4, size: 32, seed: 8 });

/** Exit 2 and one line on stderr matching `message`, nothing on stdout. */
async function usageError(args: string[], message: RegExp) {
  const r = await finetuneAsync(args, env);
  assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
  assert.match(r.stderr.trim(), message);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.equal(r.stdout, '');
}

test('numbers are decimal: --epochs 0x10, --seed 0b1 and a run id 0x1 are refused', async () => {
  await usageError(
    ['train', data, '--steps', 'head', '--epochs', '0x10'],
    /^finetune train: --epochs must be an integer >= 1 and <= \d+, got "0x10"$/,
  );
  await usageError(['scan', data, '--seed', '0b1'], /^finetune scan: --seed must be an integer.*, got "0b1"$/);
  await usageError(['runs', 'show', '0x1'], /^finetune runs: "0x1" is not a run id/);
});

test('a negative value after a flag gets that flag’s own message', async () => {
  await usageError(
    ['train', data, '--steps', 'head', '--lr', '-1'],
    /^finetune train: --lr must be a number > 0 and <= \d+, got "-1"$/,
  );
  await usageError(
    ['export', '1', '--out', '-somewhere'],
    /^finetune export: --out needs a value; to give one that starts with "-", write --out=VALUE$/,
  );
});

test('--port out of range is a usage error (exit 2); a port in use is a clear failure (exit 1)', async () => {
  await usageError(
    ['serve', '--port', '99999'],
    /^finetune serve: --port must be an integer >= 0 and <= 65535, got "99999"$/,
  );
  const renderer = join(work, 'renderer');
  mkdirSync(renderer, { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html>');
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    const r = await finetuneAsync(['serve', '--port', String(port), '--renderer-dir', renderer], env);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim(), `finetune serve: port ${port} on 127.0.0.1 is in use; pick another with --port`);
  } finally {
    taken.close();
  }
});

test('finetune runs with its reader gone (| head) ends quietly, exit 0', async () => {
  const store = new RunStore(join(home, 'history.sqlite'));
  for (let i = 0; i < 300; i++) {
    const id = store.createRun({
      dir: join(work, `run${i}`),
      kind: 'head',
      backend: 'cpu',
      config: {},
      dataset: {},
      classes: ['a', 'b'],
    });
    store.setStatus(id, 'completed');
  }
  store.close();
  const child = spawn(process.execPath, ['bin/finetune.mjs', 'runs'], { cwd: ROOT, env: { ...process.env, ...env } });
  // The reader goes away before the first line: every write finds the pipe closed.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});
