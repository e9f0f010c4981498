/**
 * Issue 11: the recipe's default LR rule for the head lands within 2x of the best LR of a grid (0.0003 … 0.3, ~x3
 * apart) for the recipe's optimizer: Fashion-MNIST 10 classes x 40 training images at 96 px, step 3's epochs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src-main/core/tf/backend';
import { DEFAULT_LR_RULE, DEFAULT_RECIPE_CONFIG } from '../../src-shared/recipe/config';
import { writeFashionMnist } from '../../scripts/fashion-mnist';
import { HEAD_LR_GRID, headLrGrid, openHeadProblem } from '../../scripts/lib/headLrGrid';

test("the default head LR rule lands within 2x of the grid's best LR (Fashion-MNIST 10 x 40, 96 px)", async () => {
  await initBackend('auto');
  const data = join(mkdtempSync(join(tmpdir(), 'grid-test-')), 'fashion');
  await writeFashionMnist(data, 40, 20);
  const problem = await openHeadProblem(data, { size: 96, seed: DEFAULT_RECIPE_CONFIG.seed });
  try {
    const rule = DEFAULT_RECIPE_CONFIG.lrRule ?? DEFAULT_LR_RULE;
    const report = await headLrGrid(problem, { optimizer: DEFAULT_RECIPE_CONFIG.optimizer });
    assert.deepEqual(
      report.grid.map((g) => g.lr),
      HEAD_LR_GRID,
    );
    // The grid is a real comparison: its LRs do not all train equally well.
    const losses = report.grid.map((g) => g.validLoss);
    assert.ok(Math.max(...losses) > Math.min(...losses) * 1.2, `grid losses ${losses.join(', ')}`);
    assert.ok(report.best.validAccuracy > 0.4, `best head accuracy ${report.best.validAccuracy} (chance 0.1)`);
    const factor = report.factors[rule];
    assert.ok(factor !== null, `the range test gave no ${rule} suggestion`);
    assert.ok(
      factor <= 2,
      `${rule} = ${report.suggestions[rule]} is x${factor.toFixed(2)} from the grid's best ${report.best.lr}`,
    );
  } finally {
    problem.dispose();
  }
});
