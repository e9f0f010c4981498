/**
 * Two processes on one run: a recipe run that a live process (a CLI) is training cannot be continued by the app's
 * service nor by `finetune resume`, which would write the same checkpoint at once; once that process is gone (kill
 * -9), it is marked interrupted and no longer refused for its owner (this one has no checkpoint to continue from).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StudioService } from '../../src-main/app/service';
import { RunStore } from '../../src-main/core/history/runStore';
import { finetuneAsync } from '../helpers/cli';

test('a run a live process trains: the service and the CLI refuse to continue it; after kill -9 it is interrupted', async () => {
  const home = mkdtempSync(join(tmpdir(), 'ft-owner-'));
  const history = join(home, 'history.sqlite');
  const store = new RunStore(history);
  const runId = store.createRun({ dir: '/d', kind: 'fastai8', backend: 'cpu', config: {}, dataset: {}, classes: [] });
  store.close();
  // The other process: alive, and recorded as the run's owner.
  const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)']);
  const raw = new Database(history);
  raw.prepare('UPDATE runs SET owner_pid = ? WHERE id = ?').run(other.pid, runId);
  raw.close();

  const service = new StudioService({ home, backend: 'cpu', mode: 'headless' });
  try {
    await assert.rejects(service.handle('run.continue', { runId }), {
      message: `Run ${runId} is running in another process: wait for it to end, or cancel it there.`,
    });
    const cli = await finetuneAsync(['resume', String(runId), '--home', home]);
    assert.equal(cli.status, 2, cli.stderr);
    assert.match(cli.stderr, new RegExp(`Run ${runId} is running in another process: wait for it to end`));

    other.kill('SIGKILL');
    await new Promise((resolve) => other.on('exit', resolve));
    // Now it is interrupted: the service may take it over, and only the missing checkpoint stops it here.
    await assert.rejects(service.handle('run.continue', { runId }), {
      message: `Run ${runId} has no checkpoint to continue from: run it again.`,
    });
    assert.equal(service.store.getRun(runId)?.status, 'interrupted');
    assert.equal(
      new Database(history, { readonly: true }).prepare('SELECT owner_pid FROM runs').pluck().get(),
      other.pid,
      'nothing took the run over without a checkpoint',
    );
  } finally {
    other.kill('SIGKILL');
    await service.close();
  }
});
