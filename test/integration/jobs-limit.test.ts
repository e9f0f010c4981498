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
import type { EventPayload } from '../../src-shared/contract';

test(`at most ${MAX_RUNNING_JOBS} jobs at once: the next start is refused, and works again once one ended`, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'ft-jobs-limit-'));
  const data = join(work, 'shapes');
  await makeShapeDataset(data, { perClass: 4, size: 32, seed: 6 });
  const service = new StudioService({ home: join(work, 'home'), backend: 'auto', mode: 'headless' });
  t.after(() => service.close());
  const done = new Map<number, EventPayload<'train.done'>['status']>();
  const waiters = new Map<number, () => void>();
  service.onEvent((event, payload) => {
    if (event !== 'train.done') return;
    const p = payload as EventPayload<'train.done'>;
    done.set(p.runId, p.status);
    waiters.get(p.runId)?.();
  });
  const ended = (runId: number) =>
    new Promise<void>((resolve) => (done.has(runId) ? resolve() : waiters.set(runId, resolve)));
  const start = () =>
    service.handle('train.start', {
      dir: data,
      epochs: 1000,
      lr: 0.001,
      size: 32,
      batchSize: 2,
      seed: 1,
      validPct: 0.25,
      dropout: 0,
    }) as Promise<{ runId: number }>;

  const runs: number[] = [];
  for (let i = 0; i < MAX_RUNNING_JOBS; i++) runs.push((await start()).runId);
  await assert.rejects(
    start(),
    /^Error: Busy: 4 jobs are running \(the most at once\); cancel one or wait for it to end\.$/,
  );
  assert.equal(service.store.listRuns().length, MAX_RUNNING_JOBS, 'no run recorded for the refused start');

  await service.handle('train.cancel', { runId: runs[0]! });
  await ended(runs[0]!);
  assert.equal(done.get(runs[0]!), 'cancelled');
  const again = (await start()).runId;
  for (const runId of [...runs.slice(1), again]) await service.handle('train.cancel', { runId });
  await Promise.all([...runs.slice(1), again].map(ended));
});
