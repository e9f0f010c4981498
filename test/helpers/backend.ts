/** What `--backend auto` should give on this machine, for tests that must not hard-code one backend. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';

/** The names the app reports, best first (tfjs-node-gpu, tfjs-node, WebAssembly, plain JavaScript). */
export const BACKEND_NAMES: readonly string[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/**
 * The best backend that loads here: what `initBackend('auto')` picks in this process (tests that spawn the CLI ask
 * it for `--backend auto` and compare). The name must be a known one and the backend tfjs really runs
 * ('tensorflow' for both native builds). Call it only in a process whose backend is chosen with 'auto'.
 */
export async function bestBackend(): Promise<string> {
  const { name } = await initBackend('auto');
  assert.ok(BACKEND_NAMES.includes(name), `unknown backend ${name}`);
  assert.equal(name.replace(/-gpu$/, ''), tf.getBackend(), 'the reported backend is the one tfjs runs');
  return name;
}
