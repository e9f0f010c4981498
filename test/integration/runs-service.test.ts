/**
 * `runs.compare` and `runs.delete` through the service's boundary (params and results checked against the contract),
 * on a real history file and run folders: a running run is refused, a finished one goes with its folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudioService } from '../../src-main/app/service';
import type { Result } from '../../src-shared/contract';

test('runs.compare and runs.delete at the service boundary', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'ft-runs-service-'));
  const service = new StudioService({ home, backend: 'cpu', mode: 'headless' });
  t.after(() => service.close());
  const { store } = service;
  const newRun = (lr: number) => {
    const id = store.createRun({ dir: '/d', kind: 'head', backend: 'cpu', config: { lr }, dataset: {}, classes: [] });
    for (let i = 0; i < 3000; i++) store.addIteration(id, { step: 'head', epoch: 0, iteration: i, loss: 1, lr });
    mkdirSync(service.paths.runDir(id), { recursive: true });
    writeFileSync(join(service.paths.runDir(id), 'run.json'), '{}');
    return id;
  };
  const a = newRun(0.01);
  const b = newRun(0.001);

  const cmp = (await service.handle('runs.compare', { runIds: [a, b] })) as Result<'runs.compare'>;
  assert.deepEqual(cmp.configDiff, [{ key: 'lr', values: ['0.01', '0.001'] }]);
  assert.deepEqual(
    cmp.runs.map((r) => [r.iterationCount, r.iterations.length]),
    [
      [3000, 1500],
      [3000, 1500],
    ],
  );
  await assert.rejects(service.handle('runs.compare', { runIds: [] }), /Invalid parameters for runs.compare/);
  await assert.rejects(service.handle('runs.compare', { runIds: [a, 404] }), /No run 404/);

  // Still 'running', owned by this live process: refused, nothing removed.
  await assert.rejects(service.handle('runs.delete', { runId: a }), /Run \d+ is running/);
  assert.ok(existsSync(service.paths.runDir(a)));
  store.finishRun(a, 'completed');
  assert.deepEqual(await service.handle('runs.delete', { runId: a }), { runId: a, folderRemoved: true });
  assert.equal(existsSync(service.paths.runDir(a)), false);
  assert.ok(existsSync(service.paths.runDir(b)));
  assert.deepEqual(
    ((await service.handle('runs.list', {})) as Result<'runs.list'>).map((r) => r.id),
    [b],
  );
  await assert.rejects(service.handle('runs.delete', { runId: a }), /No run/);
});
