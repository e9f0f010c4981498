/**
 * Using downloaded backbones (served from 127.0.0.1 by test/helpers/backboneServer.ts): a classifier on a downloaded
 * Keras backbone carries its weights and saves and reloads; a graph backbone is a frozen feature extractor that
 * refuses fine-tuning; the bundled default loads offline through the same API. The download itself is in
 * backbone-download.test.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { homePaths } from '../../src-main/core/paths';
import { loadModelFromDir, saveModelToDir } from '../../src-main/core/model/modelFiles';
import { FEATURE_DIM, buildClassifier, buildHead, disposeClassifier } from '../../src-main/core/model/backbone';
import { DEFAULT_BACKBONE_ID, assertCanFineTune } from '../../src-main/core/model/backbones';
import { loadBackbone } from '../../src-main/core/model/loadBackbone';
import { FAST_DOWNLOAD, serveTestBackbones } from '../helpers/backboneServer';

await initBackend('auto');

const work = mkdtempSync(join(tmpdir(), 'ft-backbone-load-'));
const backbones = await serveTestBackbones(work);
after(() => backbones.close());
const { base, requests, entry } = backbones;

const freshHome = (name: string) => join(work, name);

test('a classifier built on the downloaded backbone predicts the right shape', async () => {
  const home = freshHome('home-clf');
  const d = entry('tiny-clf');
  const loaded = await loadBackbone(d.id, { home, size: 32, ...FAST_DOWNLOAD });
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
  const loaded = await loadBackbone(d.id, { home, size: 32, ...FAST_DOWNLOAD });
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
  await assert.rejects(loadBackbone(d.id, { home, size: 64, ...FAST_DOWNLOAD }), /input sizes 32, not 64/);
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
