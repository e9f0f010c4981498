/** A test file's temporary folder with generated shapes (kept apart from images.ts, which the bench scripts import). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeShapeDataset, type MakeOptions } from './images';

/**
 * A test file's own temporary folder (removed after its tests) with a generated dataset in `data`: call it at the top
 * level of the file.
 */
export async function shapeWorkspace(prefix: string, opts: MakeOptions): Promise<{ work: string; data: string }> {
  const work = mkdtempSync(join(tmpdir(), prefix));
  test.after(() => rmSync(work, { recursive: true, force: true }));
  const data = join(work, 'shapes');
  await makeShapeDataset(data, opts);
  return { work, data };
}
