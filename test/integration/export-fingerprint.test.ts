/**
 * The model card names the data a run trained on: the dataset fingerprint is taken when the run reads its folder
 * and kept in the history, so an export after the folder changed still shows the training-time one, and says that
 * the folder has changed since (real CLI, generated images).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { datasetFingerprint } from '../../src-main/core/data/fingerprint';
import { makeShapeDataset } from '../helpers/images';
import { cliWorkspace, finetune, lastJson } from '../helpers/cli';

test("an export's model card shows the fingerprint taken at training, even after the folder changed", async () => {
  const { work, data, env } = cliWorkspace('ft-export-fp-');
  const files = await makeShapeDataset(data, { perClass: 8, seed: 4 });
  const before = await datasetFingerprint(data);
  const trained = finetune(
    ['train', data, '--steps', 'head', '--epochs', '1', '--size', '32', '--batch-size', '8', '--json'],
    env,
  );
  assert.equal(trained.status, 0, trained.stderr);
  const { runId } = lastJson<{ runId: number }>(trained);
  const card = (out: string) => {
    const r = finetune(['export', String(runId), '--out', join(work, out), '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(join(work, out, 'MODEL_CARD.md'), 'utf8');
  };
  const trainedLine = `sha256 \`${before.sha256}\` over ${before.files} files (${before.bytes} bytes)`;

  const unchanged = card('export-1');
  assert.ok(unchanged.includes(`${trainedLine}, taken when the run read its images; the folder still matches`));

  // One image replaced by a larger one: same names, other sizes.
  const file = files.circles![0]!;
  await sharp({ create: { width: 96, height: 96, channels: 3, background: '#c03030' } })
    .png()
    .toFile(`${file}.new`);
  await rename(`${file}.new`, file);
  const after = await datasetFingerprint(data);
  assert.notEqual(after.sha256, before.sha256);

  const changed = card('export-2');
  assert.ok(changed.includes(`${trainedLine}, taken when the run read its images`), 'the training-time fingerprint');
  assert.ok(changed.includes('**the folder has changed since training**'));
  assert.ok(changed.includes(`now sha256 \`${after.sha256}\``), "and today's");
});
