/**
 * A client cannot start training workers without bound (issue 22): with MAX_RUNNING_JOBS runs going, the service
 * refuses the next start with a "busy" message and records no run for it; once one has ended, a start works again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudioService } from '../../src-main/app/service';
import { MAX_RUNNING_JOBS } from '../../src-main/app/jobs';
import { makeShapeDataset } from '../helpers/images';
import type { RunEvent } from '../../src-shared/contract';
import { tinyRecipeConfig } from '../helpers/recipe';

test(`at most ${MAX_RUNNING_JOBS} runs at once: the next start is refused, and works again once one ended`, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'ft-jobs-limit-'));
  const data = join(work, 'shapes');
  await makeShapeDataset(data, { perClass: 4, size: 32, seed: 6 });
  const service = new StudioService({ home: join(work, 'home'), backend: 'auto', mode: 'headless' });
  t.after(() => service.close());
  const done = new Map<number, string>();
  const waiters = new Map<number, () => void>();
  service.onEvent((event, payload) => {
    const e = payload as RunEvent;
    if (event !== 'run.event' || e.type !== 'done') return;
    done.set(e.runId, e.status);
    waiters.get(e.runId)?.();
  });
  const ended = (runId: number) =>
    new Promise<void>((resolve) => (done.has(runId) ? resolve() : waiters.set(runId, resolve)));
  // A long step 3 on a tiny dataset: every run keeps its worker busy until it is cancelled.
  const config = tinyRecipeConfig(data, { batchSize: 2, headEpochs: 100, lrFind: { start: 1e-5, end: 10, iters: 10 } });
  const start = () => service.handle('run.start', { config, untilStep: 3 }) as Promise<{ runId: number }>;

  const runs: number[] = [];
  for (let i = 0; i < MAX_RUNNING_JOBS; i++) runs.push((await start()).runId);
  await assert.rejects(
    start(),
    /^Error: Busy: 4 jobs are running \(the most at once\); cancel one or wait for it to end\.$/,
  );
  assert.equal(service.store.listRuns().length, MAX_RUNNING_JOBS, 'no run recorded for the refused start');

  await service.handle('run.cancel', { runId: runs[0]! });
  await ended(runs[0]!);
  assert.equal(done.get(runs[0]!), 'cancelled', JSON.stringify(service.store.getRun(runs[0]!)?.error));
  const again = (await start()).runId;
  for (const runId of [...runs.slice(1), again]) await service.handle('run.cancel', { runId });
  await Promise.all([...runs.slice(1), again].map(ended));
});
