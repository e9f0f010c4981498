/** The backbone registry: well-formed entries, an offline default, graph models frozen-only. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKBONE_ID, FEATURE_DIM } from '../../src-main/core/model/backbone';
import {
  DEFAULT_BACKBONE_ID,
  TFHUB_QUERY,
  assertCanFineTune,
  getBackbone,
  listBackbones,
  registerBackbone,
  unregisterBackbone,
  validateBackbone,
  type BackboneDescriptor,
} from '../../src-main/core/model/backbones';

test('every registry entry is well-formed and ids are unique', () => {
  const all = listBackbones();
  assert.ok(all.length >= 5, `${all.length} backbones`);
  assert.equal(new Set(all.map((b) => b.id)).size, all.length);
  for (const b of all) {
    assert.deepEqual(validateBackbone(b), [], b.id);
    assert.ok(b.source.length > 0, `${b.id} says where its URL comes from`);
    if (b.format === 'layers') assert.ok(b.featureLayer, `${b.id} has a layer to cut at`);
    if (b.url?.startsWith('https://tfhub.dev/')) assert.equal(b.urlQuery, TFHUB_QUERY, b.id);
  }
  assert.ok(
    all.some((b) => b.format === 'layers' && !b.offline),
    'a downloadable trainable backbone',
  );
  assert.ok(
    all.some((b) => b.format === 'graph'),
    'a graph backbone',
  );
});

test('the bundled default is offline, trainable and matches backbone.ts', () => {
  assert.equal(DEFAULT_BACKBONE_ID, BACKBONE_ID);
  const d = getBackbone();
  assert.equal(d.id, 'nsfwjs-mobilenet_v2@4.4.0');
  assert.equal(d.format, 'bundled');
  assert.equal(d.offline, true);
  assert.equal(d.url, undefined);
  assert.equal(d.canFineTune, true);
  assert.equal(d.featureDim, FEATURE_DIM);
  for (const b of listBackbones()) if (b.id !== d.id) assert.equal(b.offline, false, b.id);
});

test('graph models cannot be fine-tuned, and saying so names the backbone', () => {
  const graphs = listBackbones().filter((b) => b.format === 'graph');
  for (const g of graphs) {
    assert.equal(g.canFineTune, false, g.id);
    assert.throws(
      () => assertCanFineTune(g),
      (err: Error) => err.message.includes(g.id) && err.message.includes(g.name) && /layers model/.test(err.message),
    );
  }
  for (const b of listBackbones().filter((x) => x.format !== 'graph')) assert.doesNotThrow(() => assertCanFineTune(b));
});

test('validation catches malformed entries; built-ins cannot be replaced', () => {
  const good: BackboneDescriptor = {
    ...getBackbone('mobilenet_v1_0.25_224'),
    id: 'test-registry-entry',
  };
  assert.deepEqual(validateBackbone(good), []);
  assert.ok(validateBackbone({ ...good, format: 'graph', canFineTune: true }).length > 0);
  assert.ok(validateBackbone({ ...good, featureLayer: undefined }).length > 0);
  assert.ok(validateBackbone({ ...good, url: 'ftp://x/y' }).length > 0);
  assert.ok(validateBackbone({ ...good, url: 'https://x/model.json' }).length > 0);
  assert.ok(validateBackbone({ ...good, id: '../evil' }).length > 0);
  assert.ok(validateBackbone({ ...good, sha256: { 'model.json': 'abc' } }).length > 0);
  assert.ok(validateBackbone({ ...good, inputSizes: [] }).length > 0);
  assert.throws(() => registerBackbone({ ...good, id: BACKBONE_ID }), /built in/);
  assert.throws(() => registerBackbone({ ...good, url: 'nope' }), /malformed/);
  registerBackbone(good);
  assert.equal(getBackbone('test-registry-entry').id, 'test-registry-entry');
  unregisterBackbone('test-registry-entry');
  assert.throws(() => getBackbone('test-registry-entry'), /Unknown backbone "test-registry-entry"/);
});
