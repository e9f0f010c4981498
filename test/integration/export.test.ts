/**
 * `finetune export` and the app's `model.export` on a real (tiny) eight-step run: every file of a self-describing
 * folder (model card, README), loadable by `Predictor.load` and by the README's own Node snippet; a non-empty folder
 * refused without force, an earlier export replaced with it (any other folder never); its web demo, opened from file:// in Chromium, gives predict's label and
 * probabilities; and SIGKILL at several points of an export (the test hook FINETUNE_EXPORT_TEST_PAUSE_MS pauses
 * between the stages) leaves the folder absent or complete, never half written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { finetune, lastJson, ROOT } from '../helpers/cli';
import { trainTinyRun } from '../helpers/tinyRun';
import { Predictor } from '../../src-main/core/export/predictor';
import { exportEnsemble, exportRun, ExportTargetError } from '../../src-main/core/export/exporter';
import { initBackend } from '../../src-main/core/tf/backend';
import { scanDataset } from '../../src-main/core/data/dataset';
import { datasetFingerprint } from '../../src-main/core/data/fingerprint';
import { BACKBONE_NOTE } from '../../src-main/core/model/backbone';
import { StudioService } from '../../src-main/app/service';
import { demoFiles } from '../../src-main/core/export/webDemo';
import { demoMatchesPredict } from '../helpers/exportDemo';

const { work, home, data, env, runId } = await trainTinyRun('ft-export-');
const CLASSES = ['circles', 'squares', 'stripes'];
await initBackend('cpu');
const validFiles = (await scanDataset(data, { seed: 42 })).valid.map((i) => i.file);

// Both formats by default: TF.js (model.json, or members/ + ensemble.json) and ONNX (model.onnx).
const SINGLE = ['model.json', 'weights.bin', 'model.onnx', 'labels.json', 'preprocessing.json', ...demoFiles(1)].concat(
  ['README.md', 'MODEL_CARD.md'],
);
const ENSEMBLE = [
  'members/0/model.json',
  'members/0/weights.bin',
  'members/1/model.json',
  'members/1/weights.bin',
].concat([
  'ensemble.json',
  'model.onnx',
  'labels.json',
  'preprocessing.json',
  ...demoFiles(2),
  'README.md',
  'MODEL_CARD.md',
]);

function exportCli(out: string, ...flags: string[]) {
  return finetune(['export', runId, '--out', out, ...flags], env);
}

/** The same export in this process (no CLI start-up): for the steps around the ones under test. */
const runDir = join(home, 'runs', runId);
const exportHere = (out: string, force = false) => exportRun(Number(runId), runDir, out, { force });

/** Every file listed, metadata.json's sizes and sha256s right, and the model loads and predicts. */
async function assertComplete(dir: string, expected: string[]): Promise<void> {
  for (const f of [...expected, 'metadata.json']) assert.ok(existsSync(join(dir, f)), `${dir}: ${f} missing`);
  const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as {
    files: Array<{ path: string; bytes: number; sha256: string }>;
  };
  assert.deepEqual(meta.files.map((f) => f.path).sort(), [...expected].sort());
  for (const f of meta.files) {
    const bytes = readFileSync(join(dir, f.path));
    assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256, f.path);
  }
  const predictor = await Predictor.load(dir);
  try {
    assert.deepEqual(predictor.labels, CLASSES);
    const [p] = await predictor.predict(validFiles.slice(0, 1));
    assert.ok(CLASSES.includes(p!.label));
  } finally {
    predictor.dispose();
  }
}

/** `.NAME.tmp-*` / `.NAME.old-*` siblings of an export folder. */
function leftovers(dir: string): string[] {
  return readdirSync(dirname(dir)).filter((e) => e.startsWith(`.${basename(dir)}.`));
}

test('an export holds every file, a model card and a README whose Node snippet runs', async (t) => {
  const single = join(work, 'single');
  const ensemble = join(work, 'ensemble');
  await t.test('single model and snapshot ensemble: complete and loadable', async () => {
    const r = exportCli(single, '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lastJson<{ files: string[] }>(r).files, [...SINGLE, 'metadata.json']);
    await assertComplete(single, SINGLE);
    const e = exportCli(ensemble, '--ensemble', '--json');
    assert.equal(e.status, 0, e.stderr);
    await assertComplete(ensemble, ENSEMBLE);
    assert.deepEqual(leftovers(single), []);
  });

  await t.test('MODEL_CARD.md: classes with counts, split, fingerprint, backbone caveat, every step', async () => {
    const card = readFileSync(join(single, 'MODEL_CARD.md'), 'utf8');
    for (const c of CLASSES) assert.match(card, new RegExp(`^\\| ${c} \\| 6 \\| 2 \\|$`, 'm'), c);
    assert.ok(card.includes(BACKBONE_NOTE), 'backbone caveat');
    assert.ok(card.includes(`sha256 \`${(await datasetFingerprint(data)).sha256}\` over 24 files`), 'fingerprint');
    assert.match(card, /seeded, stratified 20\.0 % of each class/);
    assert.match(card, /^\| seed \| 42 \|$/m);
    for (let s = 1; s <= 8; s++) assert.match(card, new RegExp(`^\\| ${s} \\| step${s}-`, 'm'), `step ${s}`);
    assert.match(
      card,
      /^\| 8 \| step8-all \| 3 \| [\d.e-]+ × \[0\.1111, 0\.3333, 1\] \| SGDR cycle_len 1, cycle_mult 2/m,
    );
    assert.match(card, /^\| backend \| (wasm|cpu|tensorflow)/m);
    assert.match(card, /Finetune Studio 0\.\d+\.\d+/);
    assert.match(readFileSync(join(ensemble, 'MODEL_CARD.md'), 'utf8'), /snapshot ensemble \(mean of its members/);
  });

  await t.test("README.md's Node snippet, run as written, gives Predictor's labels", async () => {
    for (const [dir, n] of [[single, 2] as const, [ensemble, 1] as const]) {
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      const snippet = /## TensorFlow\.js from Node\n[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
      assert.ok(snippet, 'a js block');
      assert.ok(readme.includes("tf.loadLayersModel('model.json')") || readme.includes('members.map'), 'web page');
      // The snippet resolves @tensorflow/tfjs and sharp from a node_modules next to it, as a user's project would.
      const project = mkdtempSync(join(work, 'user-'));
      symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
      writeFileSync(join(project, 'predict.mjs'), snippet);
      const predictor = await Predictor.load(dir);
      const expected = await predictor.predict(validFiles.slice(0, n));
      predictor.dispose();
      for (const [i, file] of validFiles.slice(0, n).entries()) {
        const r = spawnSync(process.execPath, ['predict.mjs', dir, file], { cwd: project, encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { label: string; probability: number };
        assert.equal(out.label, expected[i]!.label, file);
        assert.ok(Math.abs(out.probability - expected[i]!.probabilities[out.label]!) < 1e-4, `${file}: probability`);
      }
    }
  });
});

test("the web demo, opened from file:// in Chromium, gives predict's label and probabilities", async () => {
  const single = join(work, 'single');
  const ensemble = join(work, 'ensemble');
  if (!existsSync(single)) await exportRun(Number(runId), runDir, single);
  if (!existsSync(ensemble)) await exportEnsemble(Number(runId), runDir, ensemble);
  await demoMatchesPredict([single, ensemble], validFiles[0]!, join(work, 'demo-images'));
});

test('a non-empty folder is refused without force; with it only an earlier export is replaced (CLI and app)', async () => {
  const mine = join(work, 'mine');
  mkdirSync(mine);
  writeFileSync(join(mine, 'mine.txt'), 'keep me');
  for (const flags of [[], ['--force']]) {
    const r = exportCli(mine, ...flags);
    assert.equal(r.status, 2);
    assert.ok(r.stderr.includes(`${mine} already exists, is not empty and is not an earlier export`), r.stderr);
  }
  assert.deepEqual(readdirSync(mine), ['mine.txt'], 'untouched');
  assert.equal(readFileSync(join(mine, 'mine.txt'), 'utf8'), 'keep me');

  const out = join(work, 'taken');
  await exportEnsemble(Number(runId), runDir, out);
  writeFileSync(join(out, 'extra.txt'), 'added since');
  const r = exportCli(out);
  assert.equal(r.status, 2);
  assert.ok(r.stderr.includes(`Export folder ${out} already exists and is not empty`), r.stderr);
  assert.match(r.stderr, /--force/);
  assert.equal(exportCli(out, '--force').status, 0);
  assert.ok(!existsSync(join(out, 'extra.txt')), 'replaced, not merged');
  await assertComplete(out, SINGLE);
  assert.deepEqual(leftovers(out), []);

  // An empty folder is simply used; a file, or a folder holding the run, is never replaced.
  const empty = join(work, 'empty');
  mkdirSync(empty);
  await exportHere(empty);
  await assertComplete(empty, SINGLE);
  writeFileSync(join(work, 'a-file'), 'x');
  const refused = (re: RegExp) => (err: unknown) => err instanceof ExportTargetError && re.test(err.message);
  await assert.rejects(exportHere(join(work, 'a-file'), true), refused(/a-file exists and is not a folder/));
  await assert.rejects(exportHere(join(home, 'runs'), true), refused(/Cannot export into .*runs: it holds /));
  assert.ok(existsSync(join(runDir, 'run.json')));

  const service = new StudioService({ home, backend: 'cpu', mode: 'headless' });
  try {
    const params = { runId: Number(runId), outDir: out };
    await assert.rejects(service.handle('model.export', params), /already exists and is not empty/);
    const again = (await service.handle('model.export', { ...params, force: true })) as { dir: string };
    assert.equal(again.dir, out);
    await assertComplete(out, SINGLE);
  } finally {
    service.close();
  }
});

/** Start `finetune export` with the pause hook; SIGKILL it once stderr shows `stage`. */
function exportKilledAt(stage: string, out: string, ...flags: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/finetune.mjs', 'export', runId, '--out', out, ...flags], {
      cwd: ROOT,
      env: { ...process.env, ...env, FINETUNE_EXPORT_TEST_PAUSE_MS: '200' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes(`export-test-pause: ${stage}\n`)) child.kill('SIGKILL');
    });
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`export ended (${code}) before the kill at "${stage}":\n${stderr}`));
    });
  });
}

test('kill -9 during an export leaves the folder absent or complete', async (t) => {
  const stages = ['started', 'wrote weights.bin', 'written'];
  for (const stage of stages) {
    await t.test(`a new folder, killed at "${stage}": absent`, async () => {
      const out = join(work, `killed-${stages.indexOf(stage)}`);
      await exportKilledAt(stage, out);
      assert.ok(!existsSync(out), `${out} exists after a kill at ${stage}`);
      if (stage !== 'started') assert.equal(leftovers(out).length, 1, 'its temporary folder');
      // The next export is not confused by what the killed one left, and removes it.
      await exportHere(out);
      await assertComplete(out, SINGLE);
      assert.deepEqual(leftovers(out), []);
    });
  }
  const existing = join(work, 'replace-me');
  await exportEnsemble(Number(runId), runDir, existing);
  for (const stage of ['wrote labels.json', 'old-aside', 'replaced']) {
    await t.test(`--force over an export, killed at "${stage}": the old one, none, or the new one`, async () => {
      await exportKilledAt(stage, existing, '--force');
      if (stage === 'old-aside') assert.ok(!existsSync(existing), 'set aside, not yet replaced');
      else if (stage === 'replaced') await assertComplete(existing, SINGLE);
      else await assertComplete(existing, ENSEMBLE);
      await exportHere(existing, existsSync(existing));
      await assertComplete(existing, SINGLE);
      assert.deepEqual(leftovers(existing), []);
      await exportEnsemble(Number(runId), runDir, existing, { force: true });
    });
  }
});
