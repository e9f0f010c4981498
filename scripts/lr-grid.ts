/**
 * How far the LR range test's suggestions land from the best LR of a grid, for the head on precomputed activations
 * (the recipe's steps 2–3): train the same initial head at every grid LR for step 3's epochs, keep the LR with the
 * lowest validation loss, and report each rule's factor from it (1 = the grid's best, 2 = twice or half of it).
 * Usage: node --import tsx scripts/lr-grid.ts [--per-class 40] [--valid-per-class 20] [--size 96] [--seed 42]
 *        [--epochs N] [--optimizer sgd,adamw]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/core/tf/backend';
import { writeFashionMnist } from './fashion-mnist';
import { headLrGrid, openHeadProblem, type HeadLrGridReport } from './lib/headLrGrid';
import type { OptimizerKind } from '../src-main/core/train/optimizers';

const { values } = parseArgs({
  options: {
    'per-class': { type: 'string', default: '40' },
    'valid-per-class': { type: 'string', default: '20' },
    size: { type: 'string', default: '96' },
    seed: { type: 'string', default: '42' },
    epochs: { type: 'string' },
    optimizer: { type: 'string', default: 'sgd,adamw' },
  },
});
await initBackend('auto');
const data = join(mkdtempSync(join(tmpdir(), 'lr-grid-')), 'fashion');
await writeFashionMnist(data, Number(values['per-class']), Number(values['valid-per-class']));
const problem = await openHeadProblem(data, { size: Number(values.size), seed: Number(values.seed) });
const reports: HeadLrGridReport[] = [];
for (const kind of values.optimizer.split(',') as OptimizerKind[]) {
  const epochs = values.epochs ? Number(values.epochs) : undefined;
  const report = await headLrGrid(problem, { optimizer: kind, epochs });
  reports.push(report);
  console.error(
    `${kind}: best ${report.best.lr} (loss ${report.best.validLoss.toFixed(3)}, acc ${report.best.validAccuracy}); ` +
      Object.entries(report.factors)
        .map(
          ([rule, f]) =>
            `${rule} ${report.suggestions[rule as keyof typeof report.suggestions]?.toExponential(2)} ×${f?.toFixed(2)}`,
        )
        .join(', '),
  );
}
problem.dispose();
console.log(JSON.stringify(reports, null, 2));
