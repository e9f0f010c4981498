/** The eight steps vs the head alone on Fashion-MNIST, one seed per process (scripts/bench-recipe.ts), as a table. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface Comparison {
  seed: number;
  /** Best validation accuracy over every epoch of steps 3–8. */
  recipe: number;
  ensemble: number | null;
  /** The head alone, 8 epochs at its own defaults (AdamW 3e-3): best epoch. */
  headOnly8: number;
  /** The head alone at the recipe's head LR for as many epochs as the recipe ran. */
  headOnlySameEpochs: number;
  seconds: number;
}

interface BenchRecipeJson {
  recipe: { bestValidAccuracy: number; ensemble: { validAccuracy: number } | null; seconds: number };
  headOnlyConstantLr: { validAccuracy: number };
  headOnly8Epochs: { bestValidAccuracy: number };
}

/** `extra`: bench-recipe options for the recipe (an eval variant: --mixup 0.4, --swa 3, …). */
export function compareOnFashion(opts: { perClass: number; seed: number; size: number; extra?: string[] }): Comparison {
  const args = ['--per-class', String(opts.perClass), '--valid-per-class', '20', '--size', String(opts.size)];
  args.push(...(opts.extra ?? []));
  const script = join(import.meta.dirname, '..', 'bench-recipe.ts');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', script, ...args, '--machine-defaults', '--seed', String(opts.seed)],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`bench-recipe failed (seed ${opts.seed}):\n${r.stderr}`);
  const j = JSON.parse(r.stdout) as BenchRecipeJson;
  return {
    seed: opts.seed,
    recipe: j.recipe.bestValidAccuracy,
    ensemble: j.recipe.ensemble?.validAccuracy ?? null,
    headOnly8: j.headOnly8Epochs.bestValidAccuracy,
    headOnlySameEpochs: j.headOnlyConstantLr.validAccuracy,
    seconds: j.recipe.seconds,
  };
}

const pct = (x: number) => (100 * x).toFixed(1);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function meanSpread(xs: number[]): string {
  const spread = (Math.max(...xs) - Math.min(...xs)) / 2;
  return `${pct(mean(xs))} ± ${pct(spread)} %`;
}

/** A markdown table: mean ± half the range over the seeds, and each seed's numbers. */
export function comparisonTable(runs: Comparison[]): string {
  const rows: Array<[string, (c: Comparison) => number | null]> = [
    ['head only, 8 epochs (AdamW 3e-3), best epoch', (c) => c.headOnly8],
    ["head only, the recipe's head LR and epochs", (c) => c.headOnlySameEpochs],
    ['eight steps, best epoch', (c) => c.recipe],
    ['eight steps + snapshot ensemble', (c) => c.ensemble],
    ['eight steps − head only (points)', (c) => c.recipe - c.headOnly8],
  ];
  const lines = ['| run | mean ± spread | per seed |', '| --- | --- | --- |'];
  for (const [name, get] of rows) {
    const xs = runs.map(get).filter((x): x is number => x !== null);
    lines.push(`| ${name} | ${xs.length ? meanSpread(xs) : '–'} | ${xs.map(pct).join(' / ')} |`);
  }
  const secs = runs.map((r) => r.seconds);
  lines.push(`| recipe wall time | ${mean(secs).toFixed(0)} s | ${secs.map((s) => s.toFixed(0)).join(' / ')} |`);
  return lines.join('\n');
}
