/** The `finetune` CLI end to end on real generated images, with a real history file and a real export. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeShapeDataset } from '../helpers/images';
import { finetune, lastJson, cliWorkspace } from '../helpers/cli';
import { scanDataset } from '../../src-main/core/data/dataset';
import { bestBackend } from '../helpers/backend';

const { work, home, data, env } = cliWorkspace('ft-cli-');

interface TrainSummary {
  runId: number;
  status: string;
  backend: string;
  classes: string[];
  trainLoss: number[];
  validLoss: number[];
  validAccuracy: number[];
}

test('scan → train → export → predict → runs', async (t) => {
  await makeShapeDataset(data, { perClass: 15, withBadFiles: true, seed: 5 });

  let summary!: TrainSummary;
  await t.test('scan --json lists classes, counts and skipped files', () => {
    const r = finetune(['scan', data, '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    const out = lastJson<{
      classes: Array<{ name: string; train: number; valid: number }>;
      skipped: Array<{ file: string; reason: string }>;
    }>(r);
    assert.deepEqual(out.classes, [
      { name: 'circles', train: 12, valid: 3 },
      { name: 'squares', train: 12, valid: 3 },
      { name: 'stripes', train: 12, valid: 3 },
    ]);
    assert.deepEqual(out.skipped.map((s) => s.file).sort(), [
      'circles/broken.jpg',
      'circles/notes.txt',
      'circles/truncated.png',
    ]);
  });

  await t.test('train --steps head learns the task far above chance, on the best backend here', async () => {
    const r = finetune(
      [
        'train',
        data,
        '--steps',
        'head',
        '--epochs',
        '6',
        '--lr',
        '0.01',
        '--size',
        '48',
        '--dropout',
        '0',
        '--batch-size',
        '8',
        '--json',
      ],
      env,
    );
    assert.equal(r.status, 0, r.stderr);
    summary = lastJson<TrainSummary>(r);
    assert.equal(summary.status, 'paused', 'the recipe stopped after step 3');
    assert.equal(summary.backend, await bestBackend(), 'no --backend: auto picks the best that loads');
    assert.deepEqual(summary.classes, ['circles', 'squares', 'stripes']);
    for (const k of ['trainLoss', 'validLoss', 'validAccuracy'] as const) assert.equal(summary[k].length, 6, k);
    assert.ok(summary.trainLoss[5]! < summary.trainLoss[0]!, `train loss falls: ${summary.trainLoss}`);
    assert.ok(summary.validAccuracy[5]! >= 0.75, `valid accuracy ${summary.validAccuracy}`);
    // Precomputed activations are cached on disk, in packs: one row (one key) per readable image.
    const cacheRoot = join(home, 'cache', 'features');
    const keys = readdirSync(cacheRoot, { recursive: true })
      .filter((f) => String(f).endsWith('.keys'))
      .flatMap((f) =>
        readFileSync(join(cacheRoot, String(f)), 'utf8')
          .trim()
          .split('\n'),
      );
    assert.equal(new Set(keys).size, 45);
  });

  await t.test('export writes a loadable model and predict agrees with training-time validation', async () => {
    const out = join(work, 'export');
    const r = finetune(['export', String(summary.runId), '--out', out, '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['model.json', 'weights.bin', 'labels.json', 'preprocessing.json'])
      assert.ok(existsSync(join(out, f)), f);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'labels.json'), 'utf8')), ['circles', 'squares', 'stripes']);
    const pre = JSON.parse(readFileSync(join(out, 'preprocessing.json'), 'utf8'));
    assert.equal(pre.inputSize, 48);
    assert.deepEqual(pre.range, [0, 1]);

    const ds = await scanDataset(data, { seed: 42, validPct: 0.2 });
    const files = ds.valid.map((i) => i.file);
    const p = finetune(['predict', out, ...files, '--json'], env);
    assert.equal(p.status, 0, p.stderr);
    const preds = lastJson<Array<{ file: string; label: string; probabilities: Record<string, number> }>>(p);
    assert.equal(preds.length, files.length);
    for (const pr of preds) {
      const sum = Object.values(pr.probabilities).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to 1: ${sum}`);
    }
    const correct = preds.filter((pr, i) => pr.label === ds.classes[ds.valid[i]!.label]).length;
    // Same model, same preprocessing: the exported model reproduces the accuracy measured in training.
    assert.equal(correct / files.length, summary.validAccuracy[5]);
  });

  await t.test('runs --json shows the run with its backend and best accuracy', () => {
    const r = finetune(['runs', '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    const runs =
      lastJson<Array<{ id: number; status: string; backend: string; epochs: number; bestValidAccuracy: number }>>(r);
    const run = runs.find((x) => x.id === summary.runId)!;
    assert.equal(run.status, 'paused');
    assert.equal(run.backend, summary.backend);
    assert.equal(run.epochs, 6);
    assert.equal(run.bestValidAccuracy, Math.max(...summary.validAccuracy));
  });
});

test('bad arguments and folders: one line naming the problem; exit 2 for usage errors, 1 for failures', () => {
  const cases: Array<[string[], number, RegExp]> = [
    [['train', join(work, 'missing'), '--steps', 'head'], 2, /Folder not found: .*missing/],
    [['train', data, '--epochs', 'many'], 2, /--epochs must be an integer >= 1 and <= 100, got "many"/],
    [['train', data, '--lr=-1'], 2, /--lr must be a number > 0 and <= 10, got "-1"/],
    [['train', data, '--schedule', 'sgdr', '--cycles', '21'], 2, /--cycles must be an integer >= 1 and <= 20/],
    [['train', data, '--steps', 'everything'], 2, /--steps everything is not available/],
    [['train', data, '--recipe', 'fastai8', '--size', '16'], 2, /--size must be an integer >= 32 and <= 512/],
    [['train', data, '--recipe', 'fastai8', '--preset', 'sideways'], 2, /--preset must be none, side-on or top-down/],
    [['resume', 'last'], 2, /resume needs a run id/],
    [['lr-find', data, '--mode', 'cos'], 2, /--mode must be exp or linear, got "cos"/],
    [['scan', data, '--valid-pct', '0.9'], 2, /--valid-pct must be a number >= 0.05 and <= 0.5/],
    [['schedule', '--kind', 'constant'], 2, /finetune schedule: --iters-per-epoch is required/],
    [['frobnicate'], 2, /unknown command "frobnicate"/],
    [['runs', '--frobnicate'], 2, /Unknown option '--frobnicate'/],
    [['export', '999', '--out', join(work, 'x')], 2, /No run 999/],
    [['predict', join(work, 'nomodel'), join(data, 'circles', 'img000.png')], 1, /Cannot read a model from/],
    [['train', data, '--backend', 'quantum'], 1, /Unknown backend "quantum"/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = finetune(args, env);
    assert.equal(r.status, code, `exit code of ${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', `nothing on stdout for ${args.join(' ')}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0]!, pattern);
  }
});
