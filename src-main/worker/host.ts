/** Starts a job in a worker thread and relays its messages; cancel is a shared flag read every batch. */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BackendChoice } from '../core/tf/backend';
import type { JobKind, JobOf, WorkerEvents, WorkerInit, WorkerMessage, WorkerResults } from './protocol';

/** In the electron-vite build the worker is `trainWorker.js` next to the bundle; from source, the tsx bootstrap. */
function workerEntry(): URL {
  const built = new URL('./trainWorker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  return new URL('../worker/bootstrap.mjs', import.meta.url);
}

export interface RunningJob<R> {
  result: Promise<R>;
  cancel(): void;
}

export function startWorkerJob<K extends JobKind>(
  job: JobOf<K>,
  backend: BackendChoice,
  handlers: { onEvent?: (e: WorkerEvents[K]) => void; onBackend?: (name: string, note: string) => void } = {},
): RunningJob<WorkerResults[K]> {
  const cancel = new SharedArrayBuffer(4);
  const init: WorkerInit = { job, backend, cancel };
  const worker = new Worker(workerEntry(), { workerData: init });
  const result = new Promise<WorkerResults[K]>((resolve, reject) => {
    let settled = false;
    worker.on('message', (m: WorkerMessage<K>) => {
      if (m.type === 'event') handlers.onEvent?.(m.event);
      else if (m.type === 'backend') handlers.onBackend?.(m.name, m.note);
      else if (m.type === 'done') {
        settled = true;
        resolve(m.result);
        void worker.terminate();
      } else if (m.type === 'error') {
        settled = true;
        reject(new Error(m.message));
        void worker.terminate();
      }
    });
    worker.on('error', (err) => {
      if (!settled) reject(err);
      settled = true;
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`The training worker stopped unexpectedly (exit code ${code}).`));
      settled = true;
    });
  });
  return { result, cancel: () => Atomics.store(new Int32Array(cancel), 0, 1) };
}
