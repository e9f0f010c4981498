/**
 * What the CLI's help and the wizard say of each training option is what the options evaluation measured: the
 * committed numbers (src-shared/recipe/measuredEffectsData.ts) are recomputed from the raw runs in eval/options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  MEASURED_EFFECTS,
  effectVerdict,
  formatDelta,
  measuredEffect,
  measuredEffectsHelp,
  type MeasuredOption,
} from '../../src-shared/recipe/measuredEffects';
import { readFileSync } from 'node:fs';
import {
  EVAL_VARIANTS,
  measuredEffectsMarkdown,
  measuredEffectsOf,
  measuredEffectsTableIn,
  readResults,
  withMeasuredEffectsTable,
} from '../../scripts/lib/evalOptions';

const ROOT = join(import.meta.dirname, '..', '..');

test('the measured effects are the eval runs of their commit, recomputed (npm run eval -- --effects COMMIT)', () => {
  const results = readResults(join(ROOT, 'eval', 'options', MEASURED_EFFECTS.commit));
  assert.ok(results.length > 0, `no runs stored for ${MEASURED_EFFECTS.commit}`);
  assert.deepEqual(measuredEffectsOf(results, MEASURED_EFFECTS.commit), MEASURED_EFFECTS);
  // Every option the evaluation runs has a number for the app to show.
  const measured = Object.keys(MEASURED_EFFECTS.options).sort();
  const evaluated = EVAL_VARIANTS.map((v) => v.name)
    .filter((n) => n !== 'defaults')
    .sort();
  assert.deepEqual(measured, evaluated);
});

test('verdicts: lower or higher at every seed, the same at every seed, or mixed; one seed is never a verdict', () => {
  assert.equal(effectVerdict([-6.5, -3.5, -16.5]), 'hurt');
  assert.equal(effectVerdict([0.5, 2, 0.1]), 'helped');
  assert.equal(effectVerdict([0, 0, 0]), 'same');
  assert.equal(effectVerdict([2, -0.5, 3.5]), 'mixed');
  assert.equal(effectVerdict([-0.5, 0, -2]), 'mixed');
  assert.equal(effectVerdict([-20]), 'mixed');
  assert.equal(formatDelta([-6.5, -3.5, -16.5]), '−8.8 ± 6.8');
  assert.equal(formatDelta([2, -0.5, 3.5]), '+1.7 ± 2.0');
  assert.equal(formatDelta([0, 0, 0]), '0.0 ± 0.0');
});

test('the CLI help lists every measured option with its flags and verdict', () => {
  const help = measuredEffectsHelp();
  for (const option of Object.keys(MEASURED_EFFECTS.options) as MeasuredOption[]) {
    const e = measuredEffect(option)!;
    assert.ok(help.includes(`${e.flags} `) && help.includes(e.delta), `${option} missing from:\n${help}`);
  }
  assert.match(help, /--cutmix 1 +−8\.8 ± 6\.8 points \(3 seeds\): lower than the defaults at every seed/);
  assert.match(
    help,
    /TTA on the kept model +\+1\.8 ± 1\.3 points \(3 seeds\): higher than the kept model at every seed/,
  );
});

test("README's Results table is the measured effects' (npm run eval -- --effects rewrites it between its markers)", async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const shown = measuredEffectsTableIn(readme);
  assert.ok(shown, 'README.md lacks the measured-effects markers');
  // Prettier pads the columns: compare cell by cell.
  const cells = (table: string) =>
    table
      .split('\n')
      .filter((line) => !/^\|[\s|-]+\|$/.test(line))
      .map((line) => line.split('|').map((c) => c.trim()));
  assert.deepEqual(cells(shown), cells(measuredEffectsMarkdown(MEASURED_EFFECTS)));
  assert.match(
    shown,
    /the eight steps at their defaults, against the head alone\*\* *\| *\| \+11\.7 ± 2\.1 \(3 seeds\)/,
  );
  // Rewriting keeps everything outside the markers.
  const rewritten = withMeasuredEffectsTable(readme, 'TABLE');
  assert.equal(measuredEffectsTableIn(rewritten), 'TABLE');
  assert.equal(rewritten.split('<!-- measured-effects')[0], readme.split('<!-- measured-effects')[0]);
  assert.throws(() => withMeasuredEffectsTable('no markers', 'TABLE'), /lacks the <!-- measured-effects --> markers/);
});
