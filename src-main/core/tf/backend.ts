/**
 * TensorFlow.js backend selection, best first: tfjs-node-gpu → tfjs-node → wasm → cpu.
 * The native ones are optional dependencies; whatever loaded is reported and recorded with each run.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmGradKernels } from './wasmGradKernels';

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  /** What is running, e.g. 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'. */
  name: string;
  /** One line for people: what it is and why it was chosen. */
  note: string;
  tried: string[];
}

const require = createRequire(import.meta.url);
let current: BackendInfo | null = null;

export function parseBackendChoice(value: string | undefined): BackendChoice {
  const v = (value ?? 'auto').trim();
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new Error(`Unknown backend "${v}": use one of ${BACKEND_CHOICES.join(', ')}.`);
}

async function tryNative(pkg: string): Promise<boolean> {
  try {
    // Importing the binding registers the 'tensorflow' backend on the shared tfjs-core instance.
    await import(/* @vite-ignore */ pkg);
    return (await tf.setBackend('tensorflow')) === true;
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/');
    // Only the single-threaded build runs under Node (threaded workers need blob: URLs).
    wasm.setWasmPaths(dist.endsWith('/') ? dist : dist + '/');
    if (!(await tf.setBackend('wasm'))) return false;
    registerWasmGradKernels();
    return true;
  } catch {
    return false;
  }
}

/**
 * Select a backend once per process. `choice` comes from `--backend`, FINETUNE_BACKEND or the settings.
 * An explicit choice that cannot load is an error, not a silent fallback.
 */
export async function initBackend(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (current) return current;
  const tried: string[] = [];
  const attempts: Array<[BackendChoice, () => Promise<boolean>, string]> = [
    ['tensorflow-gpu', () => tryNative('@tensorflow/tfjs-node-gpu'), 'native TensorFlow with CUDA (tfjs-node-gpu)'],
    ['tensorflow', () => tryNative('@tensorflow/tfjs-node'), 'native TensorFlow on the CPU (tfjs-node)'],
    ['wasm', tryWasm, 'WebAssembly, one thread (tfjs-backend-wasm); install @tensorflow/tfjs-node(-gpu) for speed'],
    ['cpu', async () => (await tf.setBackend('cpu')) === true, 'pure JavaScript (slow: last resort)'],
  ];
  for (const [name, attempt, note] of attempts) {
    if (choice !== 'auto' && choice !== name) continue;
    tried.push(name);
    if (await attempt()) {
      await tf.ready();
      const running = name === 'tensorflow-gpu' ? 'tensorflow-gpu' : tf.getBackend();
      current = { name: running, note, tried };
      return current;
    }
  }
  throw new Error(
    choice === 'auto'
      ? 'No TensorFlow.js backend could start.'
      : `Backend "${choice}" could not start: install its package (see README, "Backends") or use --backend auto.`,
  );
}

export function currentBackend(): BackendInfo | null {
  return current;
}
