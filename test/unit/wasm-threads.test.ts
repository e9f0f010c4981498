// Threaded wasm under Node: one XNNPACK thread per core (up to tfjs's pool of 8), said in the backend note.
import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend, wantedWasmThreads } from '../../src-main/core/tf/backend';

test('wasm starts with one thread per core and says so', async () => {
  delete process.env.FINETUNE_WASM_THREADS;
  const expected = Math.min(os.availableParallelism(), 8);
  const b = await initBackend('wasm');
  assert.equal(b.name, 'wasm');
  assert.equal(b.threads, expected, b.note);
  assert.match(b.note, new RegExp(`${expected} threads?`));
  // It computes: a matMul on the threaded build gives the cpu backend's answer.
  const a = tf.tensor2d(
    Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i)),
    [64, 32],
  );
  const product = tf.matMul(a, a, false, true).dataSync();
  await tf.setBackend('cpu');
  const reference = tf
    .matMul(tf.tensor2d(a.dataSync(), [64, 32]), tf.tensor2d(a.dataSync(), [64, 32]), false, true)
    .dataSync();
  await tf.setBackend('wasm');
  assert.ok(product.every((v, i) => Math.abs(v - reference[i]!) < 1e-4));
});

test('FINETUNE_WASM_THREADS chooses the count, 1 turns threads off, nonsense is refused', () => {
  assert.equal(wantedWasmThreads({ FINETUNE_WASM_THREADS: '1' }), 1);
  assert.equal(wantedWasmThreads({ FINETUNE_WASM_THREADS: '3' }), 3);
  assert.equal(wantedWasmThreads({ FINETUNE_WASM_THREADS: '64' }), 8);
  assert.equal(wantedWasmThreads({}), Math.min(os.availableParallelism(), 8));
  assert.throws(() => wantedWasmThreads({ FINETUNE_WASM_THREADS: 'two' }), /FINETUNE_WASM_THREADS/);
  assert.throws(() => wantedWasmThreads({ FINETUNE_WASM_THREADS: '0' }), /FINETUNE_WASM_THREADS/);
});
