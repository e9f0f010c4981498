/**
 * Downloadable backbones against a local HTTP server (this machine has no internet): a tiny Keras model saved as
 * model.json + 2 shards, served from 127.0.0.1, downloaded with progress, cached, verified, loaded and used.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { homePaths } from '../../src-main/core/paths';
import { loadModelFromDir, saveModelToDir } from '../../src-main/core/model/modelFiles';
import { FEATURE_DIM, buildClassifier, buildHead, disposeClassifier } from '../../src-main/core/model/backbone';
import {
  DEFAULT_BACKBONE_ID,
  assertCanFineTune,
  registerBackbone,
  type BackboneDescriptor,
} from '../../src-main/core/model/backbones';
import { CACHE_MANIFEST, backboneCacheDir } from '../../src-main/core/model/backboneCache';
import { MIRROR_ENV, downloadBackbone, type DownloadProgress } from '../../src-main/core/model/downloadBackbone';
import { loadBackbone } from '../../src-main/core/model/loadBackbone';

await initBackend('auto');

const work = mkdtempSync(join(tmpdir(), 'ft-backbone-'));
const served = join(work, 'served');
const SHARDS = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
const FEATURE_LAYER = 'feat_relu';

/** A few conv layers ending in a named feature layer, then a flatten + dense top that the loader must cut off. */
function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3], name: 'image' });
  let x = tf.layers
    .conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1' })
    .apply(input);
  x = tf.layers.conv2d({ filters: 12, kernelSize: 3, strides: 2, padding: 'same', name: 'conv2' }).apply(x);
  x = tf.layers.reLU({ name: FEATURE_LAYER }).apply(x);
  x = tf.layers.flatten({ name: 'flatten' }).apply(x);
  const out = tf.layers.dense({ units: 5, activation: 'softmax', name: 'predictions' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'tiny' });
}

/** Save as model.json + 2 shards (the weight data split in two), like the converter does for big models. */
async function writeLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = Buffer.from(tf.io.CompositeArrayBuffer.join(artifacts.weightData as ArrayBuffer | ArrayBuffer[]));
      const half = Math.floor(data.length / 2);
      writeFileSync(join(dir, SHARDS[0]!), data.subarray(0, half));
      writeFileSync(join(dir, SHARDS[1]!), data.subarray(half));
      const json = {
        format: 'layers-model',
        generatedBy: 'backbone-download.test',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: SHARDS, weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** A hand-written frozen TF graph: conv 3×3 → relu → mean over H, W (4 features). */
function writeGraphModel(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const f = (type: string) => ({ type });
  const dims = (...d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) });
  const ints = (...i: number[]) => ({ list: { i: i.map(String) } });
  const text = (s: string) => ({ s: Buffer.from(s).toString('base64') });
  const constNode = (name: string, dtype: string, shape: number[]) => ({
    name,
    op: 'Const',
    attr: { value: { tensor: { dtype, tensorShape: dims(...shape) } }, dtype: f(dtype) },
  });
  const nodes = [
    { name: 'images', op: 'Placeholder', attr: { dtype: f('DT_FLOAT'), shape: { shape: dims(-1, 32, 32, 3) } } },
    constNode('kernel', 'DT_FLOAT', [3, 3, 3, 4]),
    {
      name: 'conv',
      op: 'Conv2D',
      input: ['images', 'kernel'],
      attr: {
        T: f('DT_FLOAT'),
        strides: ints(1, 1, 1, 1),
        dilations: ints(1, 1, 1, 1),
        padding: text('SAME'),
        data_format: text('NHWC'),
      },
    },
    { name: 'relu', op: 'Relu', input: ['conv'], attr: { T: f('DT_FLOAT') } },
    constNode('axes', 'DT_INT32', [2]),
    {
      name: 'features',
      op: 'Mean',
      input: ['relu', 'axes'],
      attr: { T: f('DT_FLOAT'), Tidx: f('DT_INT32'), keep_dims: { b: false } },
    },
  ];
  const kernel = Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => ((i % 7) - 3) / 10);
  const axes = Int32Array.from([1, 2]);
  writeFileSync(
    join(dir, 'group1-shard1of1.bin'),
    Buffer.concat([Buffer.from(kernel.buffer), Buffer.from(axes.buffer)]),
  );
  const json = {
    format: 'graph-model',
    generatedBy: 'backbone-download.test',
    convertedBy: 'hand',
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'kernel', shape: [3, 3, 3, 4], dtype: 'float32' },
          { name: 'axes', shape: [2], dtype: 'int32' },
        ],
      },
    ],
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
}

const original = tinyModel();
await writeLayersModel(original, join(served, 'tiny'));
writeGraphModel(join(served, 'graph'));

// ---- the server: /<model>/<file>, plus routes that fail in known ways --------------------------------------------
const requests: string[] = [];
let flaky = 0;
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const url = req.url ?? '/';
  requests.push(url);
  const [, route, ...rest] = url.split('?')[0]!.split('/');
  const file = rest.join('/');
  const send = (model: string) => {
    const path = join(served, model, file);
    if (!existsSync(path)) {
      res.writeHead(404, 'Not Found').end('no such file');
      return null;
    }
    return readFileSync(path);
  };
  if (route === 'missing') return void res.writeHead(404, 'Not Found').end();
  if (route === 'hang') return; // never answers: the stall timeout must fire
  if (route === 'flaky' && flaky++ < 2) return void res.writeHead(503, 'Service Unavailable').end();
  if (route === 'slow') {
    // model.json at once; shards half now, the rest much later, so a cancel lands mid-file.
    const data = send('tiny');
    if (!data) return;
    res.writeHead(200, { 'Content-Length': data.length, 'Content-Type': 'application/octet-stream' });
    if (file === 'model.json') return void res.end(data);
    res.write(data.subarray(0, data.length >> 1));
    const t = setTimeout(() => res.end(data.subarray(data.length >> 1)), 5000);
    res.on('close', () => clearTimeout(t));
    return;
  }
  const data = send(route === 'flaky' ? 'tiny' : route!);
  if (data) res.writeHead(200, { 'Content-Length': data.length }).end(data);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  server.closeAllConnections();
  server.close();
});

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const tinySums = Object.fromEntries(['model.json', ...SHARDS].map((f) => [f, sha(join(served, 'tiny', f))]));

function entry(id: string, extra: Partial<BackboneDescriptor> = {}): BackboneDescriptor {
  const d: BackboneDescriptor = {
    id,
    name: `Tiny test backbone ${id}`,
    format: 'layers',
    url: `${base}/tiny`,
    inputSizes: [32],
    flexibleSize: true,
    inputRange: '[-1,1]',
    featureLayer: FEATURE_LAYER,
    featureDim: 12,
    license: 'test fixture',
    note: 'written by the test',
    canFineTune: true,
    offline: false,
    source: 'test',
    ...extra,
  };
  registerBackbone(d);
  return d;
}

const fast = { retries: 2, retryDelayMs: 20, timeoutMs: 2000 };
const freshHome = (name: string) => join(work, name);
const leftovers = (home: string) =>
  existsSync(homePaths(home).cache) ? readdirSync(homePaths(home).cache).filter((e) => e.startsWith('.tmp-')) : [];

test('download reports monotonic progress to 100%, caches, and a second load uses no network', async () => {
  const home = freshHome('home-tofu');
  const d = entry('tiny-tofu');
  const events: DownloadProgress[] = [];
  const before = requests.length;
  const loaded = await loadBackbone(d.id, { home, size: 32, onProgress: (p) => events.push(p), ...fast });
  assert.deepEqual(
    requests.slice(before).map((u) => u.split('/').pop()),
    ['model.json', ...SHARDS],
    'model.json, then each shard once',
  );
  assert.ok(events.length >= 4, `${events.length} events`);
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i]!.bytes >= events[i - 1]!.bytes, 'bytes never go back');
    const [a, b] = [events[i - 1]!.fraction, events[i]!.fraction];
    if (a !== null) assert.ok(b !== null && b >= a, `fraction ${a} → ${b}`);
  }
  const last = events.at(-1)!;
  assert.equal(last.phase, 'done');
  assert.equal(last.fraction, 1);
  assert.equal(last.bytes, last.total);
  const onDisk = ['model.json', ...SHARDS].reduce((n, f) => n + readFileSync(join(served, 'tiny', f)).length, 0);
  assert.equal(last.total, onDisk);
  assert.ok(
    events.some((e) => e.file === SHARDS[1] && e.fileTotal !== null),
    'per-file totals from Content-Length',
  );

  // Trust on first use: the manifest records every file's sha256.
  const dir = backboneCacheDir(home, d.id);
  const manifest = JSON.parse(readFileSync(join(dir, CACHE_MANIFEST), 'utf8'));
  assert.equal(manifest.trust, 'first-use');
  for (const [f, sum] of Object.entries(tinySums)) assert.equal(manifest.files[f].sha256, sum, f);
  assert.deepEqual(leftovers(home), []);

  // The features match the original network cut at the feature layer, on x * 2 - 1, average-pooled.
  const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const cut = tf.model({
    inputs: original.inputs,
    outputs: original.getLayer(FEATURE_LAYER).output as tf.SymbolicTensor,
  });
  const want = tf.tidy(() => (cut.predict(x.mul(2).sub(1)) as tf.Tensor4D).mean([1, 2]));
  const got = loaded.predict(x);
  assert.deepEqual(got.shape, [2, 12]);
  assert.equal(loaded.featureDim, 12);
  assert.ok(tf.max(tf.abs(got.sub(want))).dataSync()[0]! < 1e-5, 'same features as the original');
  loaded.dispose();

  const again = requests.length;
  const hits: DownloadProgress[] = [];
  const second = await loadBackbone(d.id, { home, size: 32, onProgress: (p) => hits.push(p), ...fast });
  assert.equal(requests.length, again, 'no HTTP request on a verified cache hit');
  assert.equal(hits.at(-1)!.phase, 'cached');
  assert.equal(hits.at(-1)!.fraction, 1);
  second.dispose();
});

test('a classifier built on the downloaded backbone predicts the right shape', async () => {
  const home = freshHome('home-clf');
  const d = entry('tiny-clf');
  const loaded = await loadBackbone(d.id, { home, size: 32, ...fast });
  const clf = await buildClassifier({ size: 32, numClasses: 3, dropout: 0.2, seed: 1, backbone: loaded });
  const x = tf.randomUniform([4, 32, 32, 3]) as tf.Tensor4D;
  const probs = clf.model.predict(x) as tf.Tensor;
  assert.deepEqual(probs.shape, [4, 3]);
  assert.ok(Math.abs(probs.sum(1).dataSync()[0]! - 1) < 1e-5, 'softmax rows');
  assert.deepEqual((clf.features.predict(x) as tf.Tensor).shape, [4, 12]);
  assert.deepEqual(clf.head.inputs[0]!.shape, [null, 12], 'the head takes the backbone width');
  const diff = tf.max(tf.abs((clf.features.predict(x) as tf.Tensor).sub(loaded.predict(x)))).dataSync()[0]!;
  assert.ok(diff < 1e-5, 'the classifier carries the downloaded weights');
  // Saved and reloaded like any classifier (the rescaling layer serialises).
  const saved = join(work, 'saved-clf');
  await saveModelToDir(clf.model, saved);
  const reloaded = await loadModelFromDir(saved);
  const drift = tf.max(tf.abs((reloaded.predict(x) as tf.Tensor).sub(probs))).dataSync()[0]!;
  assert.ok(drift < 1e-6, 'the reloaded classifier predicts the same');
  reloaded.dispose();
  disposeClassifier(clf);
  loaded.dispose();
});

test('a tampered cached shard is detected on load and the cache entry removed', async () => {
  const home = freshHome('home-tamper');
  const d = entry('tiny-tamper');
  (await loadBackbone(d.id, { home, size: 32, ...fast })).dispose();
  const dir = backboneCacheDir(home, d.id);
  const shard = join(dir, SHARDS[1]!);
  const bytes = readFileSync(shard);
  bytes[0] = bytes[0]! ^ 0xff;
  writeFileSync(shard, bytes);
  await assert.rejects(
    loadBackbone(d.id, { home, size: 32, ...fast }),
    (err: Error) =>
      err.message.includes('tiny-tamper') && err.message.includes(SHARDS[1]!) && /removed/.test(err.message),
  );
  assert.equal(existsSync(dir), false, 'the damaged entry is gone');
  // The next load downloads a fresh copy.
  (await loadBackbone(d.id, { home, size: 32, ...fast })).dispose();
  assert.ok(existsSync(join(dir, CACHE_MANIFEST)));
});

test('registry checksums: the right ones are accepted, a wrong one rejects the download', async () => {
  const home = freshHome('home-sums');
  const good = entry('tiny-sums-good', { sha256: tinySums });
  const cached = await downloadBackbone(good.id, { home, ...fast });
  assert.equal(cached.manifest.trust, 'registry');

  const bad = entry('tiny-sums-bad', { sha256: { ...tinySums, [SHARDS[0]!]: '0'.repeat(64) } });
  await assert.rejects(
    downloadBackbone(bad.id, { home, ...fast }),
    (err: Error) => /Checksum mismatch/.test(err.message) && err.message.includes(SHARDS[0]!),
  );
  assert.equal(existsSync(backboneCacheDir(home, bad.id)), false, 'nothing cached');
  assert.deepEqual(leftovers(home), [], 'no temporary folder left');
});

test('a 404, a refused connection and a hung server give clear messages', async () => {
  const home = freshHome('home-errors');
  const missing = entry('tiny-404', { url: `${base}/missing` });
  await assert.rejects(
    downloadBackbone(missing.id, { home, ...fast }),
    (err: Error) =>
      err.message.includes(`${base}/missing/model.json`) && /HTTP 404/.test(err.message) && /offline/.test(err.message),
  );

  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = entry('tiny-refused', { url: `http://127.0.0.1:${deadPort}/tiny` });
  await assert.rejects(
    downloadBackbone(refused.id, { home, ...fast }),
    (err: Error) =>
      /Could not download http:\/\/127\.0\.0\.1:\d+\/tiny\/model\.json \(ECONNREFUSED\)/.test(err.message) &&
      /Check your connection/.test(err.message) &&
      /bundled offline backbone/.test(err.message),
  );

  const hung = entry('tiny-hang', { url: `${base}/hang` });
  await assert.rejects(
    downloadBackbone(hung.id, { home, retries: 1, retryDelayMs: 10, timeoutMs: 300 }),
    (err: Error) => /timed out/.test(err.message) && /after 2 attempts/.test(err.message),
  );
  assert.deepEqual(leftovers(home), []);
  assert.equal(existsSync(backboneCacheDir(home, missing.id)), false);
});

test('5xx answers are retried', async () => {
  const home = freshHome('home-flaky');
  flaky = 0;
  const d = entry('tiny-flaky', { url: `${base}/flaky` });
  const cached = await downloadBackbone(d.id, { home, ...fast });
  assert.equal(cached.fromCache, false);
  assert.ok(flaky >= 3, 'two 503s, then success');
});

test('cancelling through an AbortSignal leaves no partial cache', async () => {
  const home = freshHome('home-cancel');
  const d = entry('tiny-cancel', { url: `${base}/slow` });
  const ctrl = new AbortController();
  const started = Date.now();
  await assert.rejects(
    downloadBackbone(d.id, {
      home,
      ...fast,
      timeoutMs: 10_000,
      signal: ctrl.signal,
      onProgress: (p) => {
        if (p.file === SHARDS[0] && p.fileBytes > 0) ctrl.abort();
      },
    }),
    (err: Error) => err.name === 'AbortError' && /cancelled/.test(err.message),
  );
  assert.ok(Date.now() - started < 3000, 'the cancel does not wait for the server');
  assert.equal(existsSync(backboneCacheDir(home, d.id)), false);
  assert.deepEqual(leftovers(home), []);
});

test('the mirror variable redirects downloads', async () => {
  const home = freshHome('home-mirror');
  const d = entry('tiny', { url: 'https://example.invalid/never' });
  process.env[MIRROR_ENV] = base;
  try {
    const cached = await downloadBackbone(d.id, { home, ...fast });
    assert.equal(cached.manifest.url, `${base}/tiny`);
  } finally {
    delete process.env[MIRROR_ENV];
  }
});

test('a graph backbone loads as a frozen feature extractor and refuses fine-tuning', async () => {
  const home = freshHome('home-graph');
  const d = entry('tiny-graph', {
    format: 'graph',
    url: `${base}/graph`,
    featureLayer: undefined,
    featureDim: 4,
    flexibleSize: false,
    inputRange: '[0,1]',
    canFineTune: false,
  });
  const loaded = await loadBackbone(d.id, { home, size: 32, ...fast });
  assert.equal(loaded.format, 'graph');
  assert.equal(loaded.featureDim, 4);
  const feats = loaded.predict(tf.ones([3, 32, 32, 3]));
  assert.deepEqual(feats.shape, [3, 4]);
  const head = buildHead({ featureDim: loaded.featureDim, numClasses: 2, dropout: 0.1, seed: 1 });
  assert.deepEqual((head.predict(feats) as tf.Tensor).shape, [3, 2]);
  assert.throws(() => assertCanFineTune(d), /tiny-graph.*graph model/s);
  await assert.rejects(
    buildClassifier({ size: 32, numClasses: 2, dropout: 0.1, backbone: loaded }),
    /tiny-graph.*graph model.*frozen feature extractor/s,
  );
  await assert.rejects(loadBackbone(d.id, { home, size: 64, ...fast }), /input sizes 32, not 64/);
  head.dispose();
  loaded.dispose();
});

test('the bundled default loads offline through the same API', async () => {
  const before = requests.length;
  const loaded = await loadBackbone(DEFAULT_BACKBONE_ID, { home: freshHome('home-bundled'), size: 96 });
  assert.equal(loaded.format, 'bundled');
  assert.equal(loaded.featureDim, FEATURE_DIM);
  assert.deepEqual(loaded.predict(tf.zeros([1, 96, 96, 3])).shape, [1, FEATURE_DIM]);
  const clf = await buildClassifier({ size: 96, numClasses: 2, dropout: 0, backbone: loaded });
  assert.deepEqual((clf.model.predict(tf.zeros([1, 96, 96, 3])) as tf.Tensor).shape, [1, 2]);
  assert.equal(requests.length, before);
  assert.equal(existsSync(homePaths(freshHome('home-bundled')).cache), false, 'nothing cached');
  disposeClassifier(clf);
  loaded.dispose();
});
