/** The export tests' model: a real (tiny) eight-step run, trained by the real CLI in a fresh workspace. */
import assert from 'node:assert/strict';
import { cliWorkspace, finetune, lastJson } from './cli';
import { makeShapeDataset } from './images';

/**
 * Three shape classes of 8 images each at `size` px (seed 3), trained with fastai8 in two cycles with short LR finds;
 * returns the workspace (`data` holds the images, `env` points the CLI at `home`) and the run's id.
 */
export async function trainTinyRun(
  prefix: string,
  size = 32,
): Promise<ReturnType<typeof cliWorkspace> & { runId: string }> {
  const workspace = cliWorkspace(prefix);
  await makeShapeDataset(workspace.data, { perClass: 8, size, seed: 3 });
  const train = finetune(
    [
      'train',
      workspace.data,
      '--recipe',
      'fastai8',
      '--size',
      String(size),
      '--batch-size',
      '8',
      '--cycles',
      '2',
    ].concat(['--lr-find-iters', '5', '--lr-find-all-iters', '5', '--json']),
    workspace.env,
  );
  assert.equal(train.status, 0, train.stderr);
  return { ...workspace, runId: String(lastJson<{ runId: number }>(train).runId) };
}
