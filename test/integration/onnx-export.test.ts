/**
 * The ONNX export on a real (tiny) eight-step run, single model and snapshot ensemble: model.onnx passes the
 * structural checks (test/helpers/onnxChecks.ts) and, run in onnxruntime-node on held-out images, gives the
 * probabilities `finetune predict` gives with the TF.js export to 1e-4; `finetune predict --format onnx` too; the
 * README's ONNX snippets run as written (Node always; Python where a python3 with onnxruntime, Pillow and NumPy is
 * found — FINETUNE_PYTHON picks one); an ONNX-only export; and `finetune predict` on folders: every image listed,
 * bad files reported, the CSV, and --sort-into copying while the source folder stays byte-identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { makeShapeDataset } from '../helpers/images';
import { finetune, lastJson, ROOT } from '../helpers/cli';
import { trainTinyRun } from '../helpers/tinyRun';
import { checkOnnxFile, pythonWith } from '../helpers/onnxChecks';
import { decodeSquare } from '../../src-main/core/data/images';
import { StudioService } from '../../src-main/app/service';
import { ONNX_NODE_SNIPPET, ONNX_PYTHON_SNIPPET } from '../../src-main/core/export/onnxSnippets';

const SIZE = 32;
const { work, data, home, env, runId } = await trainTinyRun('ft-onnx-', SIZE);
const CLASSES = ['circles', 'squares', 'stripes'];

// Held out: images the run never saw, at other sizes and aspect ratios than its input (the resize and crop matter).
const heldOut = join(work, 'held-out');
await makeShapeDataset(heldOut, { perClass: 3, size: 57, seed: 11, withBadFiles: true });
const aSquare = join(heldOut, 'squares', 'img000.png');
await sharp(aSquare)
  .resize(90, 40, { fit: 'fill' })
  .png()
  .toFile(join(heldOut, 'squares', 'img900.png'));
await sharp(aSquare)
  .resize(35, 70, { fit: 'fill' })
  .jpeg()
  .toFile(join(heldOut, 'squares', 'img901.jpg'));
const heldOutImages = readdirSync(heldOut, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && /^img\d+\.(png|jpg)$/.test(e.name))
  .map((e) => join(e.parentPath, e.name))
  .sort();

const single = join(work, 'single');
const ensemble = join(work, 'ensemble');
for (const [out, flags] of [
  [single, []],
  [ensemble, ['--ensemble']],
] as const) {
  const r = finetune(['export', runId, '--out', out, '--json', ...flags], env);
  assert.equal(r.status, 0, r.stderr);
}

interface Prediction {
  file: string;
  label: string | null;
  probabilities?: Record<string, number>;
  error?: string;
}

function predictCli(dir: string, inputs: string[], ...flags: string[]): Prediction[] {
  const r = finetune(['predict', dir, ...inputs, '--json', '--backend', 'cpu', ...flags], env);
  assert.equal(r.status, 0, r.stderr);
  return lastJson<Prediction[]>(r);
}

/** model.onnx in this process's onnxruntime-node, fed decodeSquare's input (the preprocessing the export states). */
async function onnxHere(dir: string, files: string[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
  const x = new Float32Array(files.length * SIZE * SIZE * 3);
  for (const [i, f] of files.entries()) x.set(await decodeSquare(f, SIZE), i * SIZE * SIZE * 3);
  const out = await session.run({ image: new ort.Tensor('float32', x, [files.length, SIZE, SIZE, 3]) });
  await session.release();
  return out.probabilities!.data as Float32Array;
}

const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

test('model.onnx, single and ensemble: structurally valid, and the TF.js export’s probabilities to 1e-4', async (t) => {
  for (const dir of [single, ensemble]) {
    await t.test(`${dir === single ? 'single model' : 'snapshot ensemble'}`, async () => {
      const { onnxChecker } = await checkOnnxFile(join(dir, 'model.onnx'), 13);
      if (!onnxChecker)
        t.diagnostic('no python3 with the onnx package: onnx.checker not run (apt install python3-onnx)');
      const tfjs = predictCli(dir, heldOutImages, '--format', 'tfjs');
      assert.equal(tfjs.length, heldOutImages.length);
      const onnx = await onnxHere(dir, heldOutImages);
      const viaCli = predictCli(dir, heldOutImages, '--format', 'onnx');
      for (const [i, p] of tfjs.entries()) {
        const expected = CLASSES.map((c) => p.probabilities![c]!);
        const here = Array.from(onnx.subarray(i * 3, i * 3 + 3));
        assert.ok(maxDiff(here, expected) < 1e-4, `${p.file}: onnxruntime ${here} vs TF.js ${expected}`);
        const cli = CLASSES.map((c) => viaCli[i]!.probabilities![c]!);
        assert.ok(maxDiff(cli, expected) < 1e-4, `${p.file}: predict --format onnx`);
        assert.equal(viaCli[i]!.label, p.label);
      }
      // Not a constant answer: the trained model separates the held-out shapes.
      assert.ok(new Set(tfjs.map((p) => p.label)).size > 1, 'more than one label');
    });
  }
});

test('metadata.json and MODEL_CARD.md list both formats with their sha256', () => {
  for (const dir of [single, ensemble]) {
    const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as {
      formats: Array<{ format: string; opset?: number; files: Array<{ path: string; sha256: string }> }>;
    };
    assert.deepEqual(
      meta.formats.map((f) => f.format),
      ['tfjs', 'onnx'],
    );
    const card = readFileSync(join(dir, 'MODEL_CARD.md'), 'utf8');
    for (const f of meta.formats.flatMap((x) => x.files)) {
      const sha = createHash('sha256')
        .update(readFileSync(join(dir, f.path)))
        .digest('hex');
      assert.equal(f.sha256, sha, f.path);
      assert.ok(card.includes(`\`${f.path}\``) && card.includes(`\`${sha}\``), `card lists ${f.path} with its sha256`);
    }
    assert.equal(meta.formats[1]!.opset, 13);
    assert.ok(meta.formats[1]!.files.some((f) => f.path === 'model.onnx'));
  }
});

/** A folder standing for a user's project: the snippet next to a node_modules that has what it imports. */
function project(file: string, text: string): string {
  const dir = mkdtempSync(join(work, 'user-'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, file), text);
  return dir;
}

/** Run a snippet on each file; its answers against predict's: exact (1e-4) at the input size, close after a resize. */
function snippetMatches(cmd: string, script: string, cwd: string, dir: string, diffs: number[]) {
  return async (files: string[], tolerance: number) => {
    const expected = predictCli(dir, files, '--format', 'tfjs');
    for (const [i, file] of files.entries()) {
      const r = spawnSync(cmd, [script, dir, file], { cwd, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { label: string; probability: number };
      assert.equal(out.label, expected[i]!.label, `${script} ${file}: label`);
      const diff = Math.abs(out.probability - expected[i]!.probabilities![out.label]!);
      diffs.push(diff);
      assert.ok(diff < tolerance, `${script} ${file}: probability differs by ${diff}`);
    }
  };
}

// Training images are already 32 x 32: no resize, so the snippets' input is predict's exactly.
const unresized = readdirSync(join(data, 'circles'))
  .map((f) => join(data, 'circles', f))
  .slice(0, 2);

test("the README's ONNX snippets, run as written, give predict's answers", async (t) => {
  const resized = heldOutImages.slice(0, 3).concat(heldOutImages.slice(-2));
  const py = pythonWith('onnxruntime', 'PIL', 'numpy');
  if (!py)
    t.diagnostic('no python3 with onnxruntime, Pillow and NumPy (set FINETUNE_PYTHON): the Python snippet not run');
  for (const dir of [single, ensemble]) {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    assert.ok(readme.includes(ONNX_NODE_SNIPPET.trimEnd()) && readme.includes(ONNX_PYTHON_SNIPPET.trimEnd()));
    assert.match(readme, /\[batch, 32, 32, 3\] \(NHWC, RGB\)/);
    const diffs: number[] = [];
    const node = snippetMatches(
      process.execPath,
      'predict-onnx.mjs',
      project('predict-onnx.mjs', ONNX_NODE_SNIPPET),
      dir,
      diffs,
    );
    await node(unresized, 1e-4);
    // sharp's and Pillow's resizes round differently from predict's (one 8-bit level here and there).
    await node(resized, 1e-2);
    if (py) {
      const python = snippetMatches(py, 'predict_onnx.py', project('predict_onnx.py', ONNX_PYTHON_SNIPPET), dir, diffs);
      await python(unresized, 1e-4);
      await python(resized, 1e-2);
    }
    t.diagnostic(`${dir}: largest probability difference ${Math.max(...diffs).toExponential(2)}`);
  }
});

test("the Python snippet's preprocessing (Pillow + NumPy) is predict's within one 8-bit level", async (t) => {
  const py = pythonWith('PIL', 'numpy');
  if (!py) {
    t.skip('no python3 with Pillow and NumPy (apt install python3-pil python3-numpy)');
    return;
  }
  // The snippet as written up to step 4, then its input tensor out as bytes.
  const steps = ONNX_PYTHON_SNIPPET.slice(0, ONNX_PYTHON_SNIPPET.indexOf('# 4.'))
    .replace('import onnxruntime as ort\n', '')
    .replace(/^session = .*\n/m, '');
  const dir = project(
    'preprocess.py',
    `${steps}sys.stdout.buffer.write(np.rint(x * 255).astype(np.uint8).tobytes())\n`,
  );
  let differing = 0;
  for (const file of heldOutImages) {
    const r: SpawnSyncReturns<Buffer> = spawnSync(py, ['preprocess.py', single, file], { cwd: dir });
    assert.equal(r.status, 0, r.stderr.toString());
    const ours = await decodeSquare(file, SIZE);
    assert.equal(r.stdout.length, ours.length);
    for (let i = 0; i < ours.length; i++) {
      const d = Math.abs(r.stdout[i]! - Math.round(ours[i]! * 255));
      assert.ok(d <= 1, `${file}: pixel ${i} differs by ${d} levels`);
      if (d) differing++;
    }
  }
  t.diagnostic(`${differing} of ${heldOutImages.length * SIZE * SIZE * 3} values one level apart`);
});

test('an ONNX-only export has no TF.js files, and predict runs it (CLI and app)', async () => {
  const out = join(work, 'onnx-only');
  const r = finetune(['export', runId, '--out', out, '--format', 'onnx', '--json'], env);
  assert.equal(r.status, 0, r.stderr);
  const files = lastJson<{ files: string[] }>(r).files;
  assert.deepEqual(files, [
    'model.onnx',
    'labels.json',
    'preprocessing.json',
    'README.md',
    'MODEL_CARD.md',
    'metadata.json',
  ]);
  const readme = readFileSync(join(out, 'README.md'), 'utf8');
  assert.ok(!readme.includes('model.json') && !readme.includes('index.html'), 'no TF.js instructions');
  const p = predictCli(out, heldOutImages.slice(0, 3));
  const tfjs = predictCli(single, heldOutImages.slice(0, 3), '--format', 'tfjs');
  assert.deepEqual(
    p.map((x) => x.label),
    tfjs.map((x) => x.label),
  );
  const bad = finetune(['export', runId, '--out', join(work, 'x'), '--format', 'keras'], env);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--format takes tfjs, onnx or both \(tfjs,onnx\), got "keras"/);
  const none = finetune(['predict', out, heldOutImages[0]!, '--format', 'tfjs'], env);
  assert.equal(none.status, 1);
  // The app's Export page asks for the formats the same way.
  const service = new StudioService({ home, backend: 'cpu', mode: 'headless' });
  try {
    const params = { runId: Number(runId), outDir: join(work, 'onnx-only-app'), formats: ['onnx' as const] };
    const app = (await service.handle('model.export', params)) as { files: string[]; warnings: string[] };
    assert.deepEqual(app.files, files);
    assert.deepEqual(app.warnings, []);
  } finally {
    service.close();
  }
});

/** sha256 of every file under `dir` with its relative path and mode: equal before and after = byte-identical. */
function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const s = statSync(p);
      h.update(`${relative(dir, p)}\0${s.mode}\0`);
      if (s.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

test('predict on folders: a CSV row per image, bad files reported, --sort-into copies and leaves the source as it was', () => {
  const before = treeHash(heldOut);
  const csv = join(work, 'predictions.csv');
  const sorted = join(work, 'sorted');
  const r = finetune(['predict', single, heldOut, '--csv', csv, '--sort-into', sorted, '--format', 'onnx'], env);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(treeHash(heldOut), before, 'the source folder is byte-identical');
  // Three bad files: broken.jpg and truncated.png (undecodable), notes.txt (not an image).
  for (const bad of ['broken.jpg', 'truncated.png', 'notes.txt'])
    assert.match(r.stderr, new RegExp(`skipped .*${bad}: `));
  assert.match(r.stdout, new RegExp(`${heldOutImages.length} images predicted with onnx, 3 skipped`));
  const rows = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(rows[0], 'file,label,probability,top_k,error');
  assert.equal(rows.length, 1 + heldOutImages.length + 3);
  const good = rows.slice(1, 1 + heldOutImages.length).map((l) => l.split(','));
  for (const [file, label, prob, top, error] of good) {
    assert.ok(CLASSES.includes(label!) && Number(prob) > 0 && error === '', file);
    assert.equal(top!.split(';').length, 3);
    assert.ok(top!.startsWith(`${label}:`), 'top-k starts with the label');
  }
  assert.ok(
    rows.slice(1 + heldOutImages.length).every((l) => /,,,,.+$/.test(l)),
    'bad files: error, no label',
  );
  // Copies: one per predicted image, under its label, bytes equal to the source.
  const copies = readdirSync(sorted, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  assert.equal(copies.length, heldOutImages.length);
  for (const [file, label] of good) {
    const name = file!.split('/').at(-1)!;
    const same = copies.filter((c) => c.parentPath === join(sorted, label!) && c.name.startsWith(name.split('.')[0]!));
    assert.ok(same.length >= 1, `${file} copied into ${label}/`);
  }
  // An OUT inside the source is refused before anything is written.
  const inside = finetune(['predict', single, heldOut, '--sort-into', join(heldOut, 'sorted')], env);
  assert.equal(inside.status, 2);
  assert.match(inside.stderr, /overlaps the image folder/);
  assert.equal(treeHash(heldOut), before);
  assert.ok(!existsSync(join(heldOut, 'sorted')));
});
