/**
 * `finetune predict MODEL DIR --csv` on 1,000 generated images (plus a few bad files), with the export's ONNX model
 * (onnxruntime-node) and its TF.js model (the CLI's backend, wasm here): wall time of the whole command (start-up,
 * listing, decoding, inference, CSV), rows written and files reported. A benchmark, not a test: nothing asserts a time.
 * Usage: node --import tsx scripts/bench-predict.ts [--images 1000] [--size 96] [--reps 2]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { makeShapeDataset } from '../test/helpers/images';
import { finetune, lastJson } from '../test/helpers/cli';

const { values } = parseArgs({
  options: { images: { type: 'string', default: '1000' }, size: { type: 'string', default: '96' } },
  allowPositionals: false,
});
const count = Number(values.images);
const size = values.size!;
const work = mkdtempSync(join(tmpdir(), 'ft-bench-predict-'));
const env = { FINETUNE_HOME: join(work, 'home') };

function must(args: string[]) {
  const r = finetune(args, env);
  if (r.status !== 0) throw new Error(`finetune ${args.join(' ')} failed:\n${r.stderr}`);
  return r;
}

// A model: the head trained for one epoch on 3 x 12 images (its accuracy does not matter here).
await makeShapeDataset(join(work, 'train'), { perClass: 12, size: 64, seed: 1 });
const trained = must(['train', join(work, 'train'), '--steps', 'head', '--epochs', '1', '--size', size, '--json']);
const runId = String(lastJson<{ runId: number }>(trained).runId);
const model = join(work, 'model');
must(['export', runId, '--out', model]);

// The images: small PNGs and JPEGs of the three shapes at 64-160 px, some not square; and 5 bad files.
const images = join(work, 'images');
const perClass = Math.ceil(count / 3);
await makeShapeDataset(images, { perClass, size: 64, seed: 7, withBadFiles: true });
for (const [c, cls] of ['circles', 'squares', 'stripes'].entries()) {
  // perClass each, less the surplus from the last classes: exactly `count` in all.
  const keep = perClass - Math.max(0, Math.min(1, perClass * 3 - count - (2 - c)));
  for (let i = 0; i < perClass; i++) {
    const file = join(images, cls, `img${String(i).padStart(3, '0')}.${i % 3 === 2 ? 'jpg' : 'png'}`);
    if (i >= keep) {
      rmSync(file);
      continue;
    }
    const [w, h] = [64 + ((i * 37) % 97), 64 + ((i * 53) % 97)];
    writeFileSync(file, await sharp(readFileSync(file)).resize(w, h, { fit: 'fill' }).toBuffer());
  }
}
writeFileSync(join(images, 'stripes', 'empty.png'), '');
writeFileSync(join(images, 'squares', 'README.md'), 'not an image');

for (const format of ['onnx', 'tfjs', 'onnx', 'tfjs']) {
  const csv = join(work, `${format}.csv`);
  const t0 = performance.now();
  const r = must(['predict', model, images, '--csv', csv, '--format', format]);
  const seconds = (performance.now() - t0) / 1000;
  const rows = readFileSync(csv, 'utf8').trim().split('\n').length - 1;
  const skipped = r.stderr.split('\n').filter((l) => l.startsWith('skipped ')).length;
  console.log(
    `${format.padEnd(5)} ${seconds.toFixed(1)} s  ${rows} CSV rows, ${skipped} reported  (${r.stdout.trim()})`,
  );
}
rmSync(work, { recursive: true, force: true });
