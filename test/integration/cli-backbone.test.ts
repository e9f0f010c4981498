/**
 * `finetune train --backbone ID`: a downloadable backbone fetched over HTTP (a local server standing in for the
 * public host, via FINETUNE_BACKBONE_MIRROR), cached, and used end to end: train, export, predict.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { makeShapeDataset, SHAPE_CLASSES } from '../helpers/images';
import { finetuneAsync as finetune, lastJson } from '../helpers/cli';

const ID = 'mobilenet_v1_0.25_224';

interface TrainSummary {
  runId: number;
  status: string;
  classes: string[];
  epochs: Array<{ epoch: number; trainLoss: number; validLoss: number; validAccuracy: number }>;
}

/** A tiny stand-in with MobileNet v1's feature layer name, saved like the converter does. */
async function writeStandIn(dir: string) {
  const input = tf.input({ shape: [32, 32, 3], name: 'input_1' });
  let x = tf.layers
    .conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1' })
    .apply(input);
  x = tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', name: 'conv_pw_13' }).apply(x);
  x = tf.layers.reLU({ name: 'conv_pw_13_relu' }).apply(x);
  x = tf.layers.flatten({ name: 'flatten' }).apply(x);
  const out = tf.layers.dense({ units: 4, activation: 'softmax', name: 'predictions' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.from(tf.io.CompositeArrayBuffer.join(a.weightData!)));
      const json = {
        format: 'layers-model',
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
}

test('train with a downloaded backbone; the second run uses the cache', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'ft-cli-backbone-'));
  const served = join(work, 'served');
  await writeStandIn(join(served, ID));
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const file = join(served, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(served) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200).end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const data = join(work, 'shapes');
  await makeShapeDataset(data, { perClass: 6, seed: 8 });
  const env = { FINETUNE_HOME: join(work, 'home'), FINETUNE_BACKBONE_MIRROR: `http://127.0.0.1:${port}` };
  const args = ['train', data, '--steps', 'head', '--epochs', '2', '--size', '32', '--backbone', ID, '--json'];

  const first = await finetune(args, env);
  assert.equal(first.status, 0, first.stderr);
  const run = lastJson<TrainSummary>(first);
  assert.equal(run.status, 'paused', 'a head run: the recipe stopped after step 3');
  assert.deepEqual(run.classes, SHAPE_CLASSES);
  assert.deepEqual(
    run.epochs.map((e) => e.epoch),
    [0, 1],
  );
  for (const e of run.epochs) {
    assert.ok(Number.isFinite(e.trainLoss) && e.trainLoss > 0, `train loss ${e.trainLoss}`);
    assert.ok(Number.isFinite(e.validLoss) && e.validLoss > 0, `valid loss ${e.validLoss}`);
    assert.ok(e.validAccuracy >= 0 && e.validAccuracy <= 1, `valid accuracy ${e.validAccuracy}`);
  }
  assert.ok(requests >= 2, 'model.json and the shard were downloaded');
  const meta = JSON.parse(readFileSync(join(work, 'home', 'runs', String(run.runId), 'run.json'), 'utf8'));
  assert.equal(meta.backboneId, ID);
  assert.equal(meta.size, 32);
  assert.deepEqual(meta.classes, SHAPE_CLASSES);
  assert.equal(meta.config.backbone, ID);
  assert.equal(meta.config.epochs, 2);

  const before = requests;
  const second = await finetune(args, env);
  assert.equal(second.status, 0, second.stderr);
  assert.equal(requests, before, 'no network on the second run: the verified cache is used');
  const again = lastJson<TrainSummary>(second);
  assert.equal(again.status, 'paused');
  assert.equal(again.runId, run.runId + 1);
  assert.deepEqual(again.classes, SHAPE_CLASSES);
  assert.equal(again.epochs.length, 2);

  const out = join(work, 'export');
  const exported = await finetune(['export', String(run.runId), '--out', out], env);
  assert.equal(exported.status, 0, exported.stderr);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'labels.json'), 'utf8')), SHAPE_CLASSES);
  assert.equal(JSON.parse(readFileSync(join(out, 'preprocessing.json'), 'utf8')).inputSize, 32);
  assert.equal(JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8')).backboneId, ID);
  const image = join(data, 'circles', 'img000.png');
  const preds = lastJson<Array<{ file: string; label: string; probabilities: Record<string, number> }>>(
    await finetune(['predict', out, image, '--json'], env),
  );
  assert.equal(preds.length, 1);
  const [pred] = preds;
  assert.equal(pred!.file, image);
  assert.deepEqual(Object.keys(pred!.probabilities).sort(), [...SHAPE_CLASSES]);
  const probs = Object.values(pred!.probabilities);
  assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-4, `probabilities sum to 1: ${probs}`);
  assert.equal(pred!.probabilities[pred!.label], Math.max(...probs), 'the label is the most probable class');
});
