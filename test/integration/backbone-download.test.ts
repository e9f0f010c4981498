/**
 * Downloadable backbones against a local HTTP server (this machine has no internet; test/helpers/backboneServer.ts):
 * a tiny Keras model saved as model.json + 2 shards is downloaded with progress, cached, verified and reloaded from
 * the cache; tampering, wrong registry checksums, HTTP and network failures, retries, a cancel and the mirror
 * variable. Using what was downloaded is in backbone-load.test.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { homePaths } from '../../src-main/core/paths';
import { CACHE_MANIFEST, backboneCacheDir } from '../../src-main/core/model/backboneCache';
import { MIRROR_ENV, downloadBackbone, type DownloadProgress } from '../../src-main/core/model/downloadBackbone';
import { loadBackbone } from '../../src-main/core/model/loadBackbone';
import { FAST_DOWNLOAD, FEATURE_LAYER, SHARDS, serveTestBackbones } from '../helpers/backboneServer';

await initBackend('auto');

const work = mkdtempSync(join(tmpdir(), 'ft-backbone-'));
const backbones = await serveTestBackbones(work);
after(() => backbones.close());
const { base, served, original, tinySums, requests, entry } = backbones;

const freshHome = (name: string) => join(work, name);
const leftovers = (home: string) =>
  existsSync(homePaths(home).cache) ? readdirSync(homePaths(home).cache).filter((e) => e.startsWith('.tmp-')) : [];

test('download reports monotonic progress to 100%, caches, and a second load uses no network', async () => {
  const home = freshHome('home-tofu');
  const d = entry('tiny-tofu');
  const events: DownloadProgress[] = [];
  const before = requests.length;
  const loaded = await loadBackbone(d.id, { home, size: 32, onProgress: (p) => events.push(p), ...FAST_DOWNLOAD });
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
  const second = await loadBackbone(d.id, { home, size: 32, onProgress: (p) => hits.push(p), ...FAST_DOWNLOAD });
  assert.equal(requests.length, again, 'no HTTP request on a verified cache hit');
  assert.equal(hits.at(-1)!.phase, 'cached');
  assert.equal(hits.at(-1)!.fraction, 1);
  second.dispose();
});

test('a tampered cached shard is detected on load and the cache entry removed', async () => {
  const home = freshHome('home-tamper');
  const d = entry('tiny-tamper');
  (await loadBackbone(d.id, { home, size: 32, ...FAST_DOWNLOAD })).dispose();
  const dir = backboneCacheDir(home, d.id);
  const shard = join(dir, SHARDS[1]!);
  const bytes = readFileSync(shard);
  bytes[0] = bytes[0]! ^ 0xff;
  writeFileSync(shard, bytes);
  await assert.rejects(
    loadBackbone(d.id, { home, size: 32, ...FAST_DOWNLOAD }),
    (err: Error) =>
      err.message.includes('tiny-tamper') && err.message.includes(SHARDS[1]!) && /removed/.test(err.message),
  );
  assert.equal(existsSync(dir), false, 'the damaged entry is gone');
  // The next load downloads a fresh copy.
  (await loadBackbone(d.id, { home, size: 32, ...FAST_DOWNLOAD })).dispose();
  assert.ok(existsSync(join(dir, CACHE_MANIFEST)));
});

test('registry checksums: the right ones are accepted, a wrong one rejects the download', async () => {
  const home = freshHome('home-sums');
  const good = entry('tiny-sums-good', { sha256: tinySums });
  const cached = await downloadBackbone(good.id, { home, ...FAST_DOWNLOAD });
  assert.equal(cached.manifest.trust, 'registry');

  const bad = entry('tiny-sums-bad', { sha256: { ...tinySums, [SHARDS[0]!]: '0'.repeat(64) } });
  await assert.rejects(
    downloadBackbone(bad.id, { home, ...FAST_DOWNLOAD }),
    (err: Error) => /Checksum mismatch/.test(err.message) && err.message.includes(SHARDS[0]!),
  );
  assert.equal(existsSync(backboneCacheDir(home, bad.id)), false, 'nothing cached');
  assert.deepEqual(leftovers(home), [], 'no temporary folder left');
});

test('a 404, a refused connection and a hung server give clear messages', async () => {
  const home = freshHome('home-errors');
  const missing = entry('tiny-404', { url: `${base}/missing` });
  await assert.rejects(
    downloadBackbone(missing.id, { home, ...FAST_DOWNLOAD }),
    (err: Error) =>
      err.message.includes(`${base}/missing/model.json`) && /HTTP 404/.test(err.message) && /offline/.test(err.message),
  );

  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = entry('tiny-refused', { url: `http://127.0.0.1:${deadPort}/tiny` });
  await assert.rejects(
    downloadBackbone(refused.id, { home, ...FAST_DOWNLOAD }),
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
  backbones.flaky = 0;
  const d = entry('tiny-flaky', { url: `${base}/flaky` });
  const cached = await downloadBackbone(d.id, { home, ...FAST_DOWNLOAD });
  assert.equal(cached.fromCache, false);
  assert.ok(backbones.flaky >= 3, 'two 503s, then success');
});

test('cancelling through an AbortSignal leaves no partial cache', async () => {
  const home = freshHome('home-cancel');
  const d = entry('tiny-cancel', { url: `${base}/slow` });
  const ctrl = new AbortController();
  const started = Date.now();
  await assert.rejects(
    downloadBackbone(d.id, {
      home,
      ...FAST_DOWNLOAD,
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
    const cached = await downloadBackbone(d.id, { home, ...FAST_DOWNLOAD });
    assert.equal(cached.manifest.url, `${base}/tiny`);
  } finally {
    delete process.env[MIRROR_ENV];
  }
});
