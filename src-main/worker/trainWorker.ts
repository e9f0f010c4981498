/** The training worker: runs one job off the main thread, so the UI and the server keep answering. */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../core/tf/backend';
import { evaluateRunJob } from '../core/train/evaluateJob';
import { interpretRunJob } from '../core/train/interpretJob';
import { runRecipeLeg } from '../core/recipe/recipeJob';
import { estimateRecipeRun } from '../core/recipe/measure';
import type { WorkerInit, WorkerMessage } from './protocol';
import type { RecipeEvent } from '../core/recipe/types';

const init = workerData as WorkerInit;
const cancelFlag = new Int32Array(init.cancel);
const post = (m: WorkerMessage) => parentPort!.postMessage(m);

async function run() {
  const backend = await initBackend(init.backend);
  post({ type: 'backend', name: backend.name, note: backend.note });
  const job = init.job;
  const shouldCancel = () => Atomics.load(cancelFlag, 0) === 1;
  if (job.kind === 'recipe') {
    const ctx = {
      runDir: job.runDir,
      featureCache: job.featureCache,
      home: job.home,
      shouldCancel,
      emit: (event: RecipeEvent) => post({ type: 'event', event }),
    };
    post({ type: 'done', result: await runRecipeLeg(job.leg, ctx) });
  } else if (job.kind === 'estimate') {
    post({ type: 'done', result: await estimateRecipeRun(job.config, { home: job.home }) });
  } else if (job.kind === 'interpret') {
    post({ type: 'done', result: await interpretRunJob(job.runDir, job.config, { tta: job.tta }) });
  } else {
    post({ type: 'done', result: await evaluateRunJob(job.runId, job.runDir, job.config) });
  }
}

run().catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
