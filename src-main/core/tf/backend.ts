/**
 * TensorFlow.js backend selection, best first: tfjs-node-gpu → tfjs-node → wasm → cpu.
 * The native ones are optional dependencies; whatever loaded is reported and recorded with each run.
 */
import type { Message } from '../../../src-shared/messages';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerGradients } from './gradients';
import { registerWasmGradKernels } from './wasmGradKernels';
import { unrefPthreads, withThreadedWasmStart } from './wasmThreads';
import { useKernelThreads } from './kernelThreads';

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  /** What is running, e.g. 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'. */
  name: string;
  /** One line for people: what it is and why it was chosen. */
  note: string;
  tried: string[];
  /** Threads the backend computes with (wasm: XNNPACK's pool; native: TensorFlow's own, reported as the core count). */
  threads: number;
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

/** XNNPACK's pool is capped at 8 by tfjs's build (8 pre-started workers). */
const MAX_WASM_THREADS = 8;

/** Threads wanted for wasm: FINETUNE_WASM_THREADS (1 turns threads off), else one per core. */
export function wantedWasmThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FINETUNE_WASM_THREADS?.trim();
  if (raw) {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`FINETUNE_WASM_THREADS must be a whole number >= 1, got "${raw}".`);
    return Math.min(n, MAX_WASM_THREADS);
  }
  return Math.max(1, Math.min(os.availableParallelism(), MAX_WASM_THREADS));
}

/** How long the threaded build may take to start before the single-threaded one is used instead. */
const THREAD_START_TIMEOUT_MS = 60_000;
let wasmFallbackReason: string | null = null;

async function tryWasm(): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/');
    wasm.setWasmPaths(dist.endsWith('/') ? dist : dist + '/');
    const threads = wantedWasmThreads();
    let started = false;
    if (threads > 1) {
      try {
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
        wasm.setThreadsCount(threads);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer in ${THREAD_START_TIMEOUT_MS / 1000} s`)),
            THREAD_START_TIMEOUT_MS,
          );
          timer.unref();
        });
        started = await Promise.race([withThreadedWasmStart(threads, () => tf.setBackend('wasm')), timeout]).finally(
          () => clearTimeout(timer),
        );
        if (!started) wasmFallbackReason = 'the threaded build did not start';
        else useKernelThreads(threads);
      } catch (e) {
        wasmFallbackReason = `the threaded build failed: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    if (!started) {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      if (!(await tf.setBackend('wasm'))) return false;
    }
    unrefPthreads((tf.backend() as unknown as { wasm: unknown }).wasm);
    registerWasmGradKernels();
    return true;
  } catch {
    return false;
  }
}

function wasmNote(threads: number): string {
  const base = `WebAssembly SIMD (tfjs-backend-wasm and our kernels), ${threads} thread${threads === 1 ? '' : 's'}`;
  if (wasmFallbackReason) return `${base}: single-threaded because ${wasmFallbackReason}`;
  return `${base}; install @tensorflow/tfjs-node(-gpu) for native speed`;
}

/** The note of a loaded backend as a code (src-shared/messages), which the renderer says in the user's language. */
export function backendMessage(info: { name: string; threads: number }): Message | null {
  if (info.name === 'wasm') {
    return { code: wasmFallbackReason ? 'backend.wasmSingle' : 'backend.wasm', params: { count: info.threads } };
  }
  const codes: Record<string, Message['code']> = {
    'tensorflow-gpu': 'backend.tensorflowGpu',
    tensorflow: 'backend.tensorflow',
    cpu: 'backend.cpu',
  };
  const code = codes[info.name];
  return code ? { code, params: {} } : null;
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
    ['wasm', tryWasm, ''],
    ['cpu', async () => (await tf.setBackend('cpu')) === true, 'pure JavaScript (slow: last resort)'],
  ];
  for (const [name, attempt, note] of attempts) {
    if (choice !== 'auto' && choice !== name) continue;
    tried.push(name);
    if (await attempt()) {
      await tf.ready();
      const running = name === 'tensorflow-gpu' ? 'tensorflow-gpu' : tf.getBackend();
      registerGradients();
      if (running === 'wasm') {
        const threads = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
        current = { name: running, note: wasmNote(threads), tried, threads };
      } else {
        const threads = running === 'cpu' ? 1 : os.availableParallelism();
        current = { name: running, note, tried, threads };
      }
      return current;
    }
  }
  throw new Error(
    choice === 'auto'
      ? 'No TensorFlow.js backend could start.'
      : `Backend "${choice}" could not start: install its package (see README, "Backends") or use --backend auto.`,
  );
}
