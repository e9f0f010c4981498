/**
 * A folder with more images than the process may open files (issue 23: `ulimit -n 256`, macOS's default, broke
 * training on a 400-image folder; 20,000 images broke it at Linux's limits): the real CLI, under `ulimit -n 128`,
 * scans, precomputes and trains the head on 300 images, twice (the second run reads the activations from the cache).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeShapeDataset } from '../helpers/images';
import { cliWorkspace, ROOT } from '../helpers/cli';

/**
 * Above what the process holds before it opens an image (about 70 here: the wasm backend's worker threads, tsx's
 * pipes, the history), well below the images' count.
 */
const FILE_LIMIT = 128;
const PER_CLASS = 100;

/** `finetune ARGS` under `ulimit -n FILE_LIMIT` (bash's builtin, so the limit is the kernel's, not a stand-in). */
function limitedFinetune(args: string[], env: Record<string, string>) {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync(
    'bash',
    ['-c', `ulimit -n ${FILE_LIMIT} && exec "${process.execPath}" bin/finetune.mjs ${quoted}`],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 600_000,
    },
  );
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test(`the head trains on ${3 * PER_CLASS} images under ulimit -n ${FILE_LIMIT}`, async () => {
  const { home, data, env } = cliWorkspace('ft-fd-limit-');
  await makeShapeDataset(data, { perClass: PER_CLASS, size: 32, seed: 3 });
  const images = readdirSync(data).flatMap((c) => readdirSync(join(data, c)));
  assert.ok(images.length > FILE_LIMIT * 2, `${images.length} images`);
  const limit = spawnSync('bash', ['-c', `ulimit -n ${FILE_LIMIT} && ulimit -n`], { encoding: 'utf8' });
  assert.equal(limit.stdout.trim(), String(FILE_LIMIT), 'the limit is set in the child');

  const args = ['train', data, '--steps', 'head', '--epochs', '2', '--size', '32', '--batch-size', '32', '--json'];
  for (const pass of ['first', 'cached']) {
    const r = limitedFinetune(args, { ...env, FINETUNE_HOME: home });
    assert.equal(r.status, 0, `${pass} run: ${r.stderr.slice(-2000)}`);
    assert.doesNotMatch(r.stderr, /EMFILE|too many open files/i);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { status: string; validAccuracy: number[] };
    // A head run is the recipe stopped after step 3: paused, its model exportable.
    assert.equal(summary.status, 'paused', pass);
    assert.equal(summary.validAccuracy.length, 2, pass);
  }
});
