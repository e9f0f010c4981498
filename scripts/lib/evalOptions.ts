/**
 * The training options' evaluation (issue 27): each option alone on top of the recipe's defaults, on Fashion-MNIST
 * 10 classes × 40 (three seeds) and × 100 (one seed), beside the defaults and the head alone. One bench-recipe
 * process per run; each run's raw JSON is kept under `eval/options/<commit>/`, so the matrix resumes where it
 * stopped (these are hours of CPU on two cores) and every number in the table comes from one commit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  effectVerdict,
  formatDelta,
  signedPoints,
  type EffectVerdict,
  type MeasuredEffects,
  type MeasuredOption,
  type RunMinutes,
} from '../../src-shared/recipe/measuredEffects';

/** An option as bench-recipe flags. `size` is the machine's default image size (progressive resizing halves it). */
export interface EvalVariant {
  name: string;
  /** What it is, in the table. */
  label: string;
  args: (size: number) => string[];
}

export const EVAL_VARIANTS: EvalVariant[] = [
  { name: 'defaults', label: 'the defaults', args: () => [] },
  { name: 'mixup', label: 'mixup α = 0.4 (steps 4, 8)', args: () => ['--mixup', '0.4'] },
  { name: 'cutmix', label: 'cutmix α = 1 (steps 4, 8)', args: () => ['--cutmix', '1'] },
  { name: 'swa', label: 'SWA of the last 2 cycles', args: () => ['--swa', '2'] },
  {
    name: 'lrfind-valid',
    label: 'range tests on the validation loss (lr_find2)',
    args: () => ['--lr-find-on', 'valid'],
  },
  {
    name: 'progressive',
    label: "progressive resizing (step 8's first cycles at half size)",
    args: (size) => ['--progressive', String(Math.max(32, Math.round(size / 16) * 8))],
  },
  { name: 'sgd', label: 'SGD with momentum instead of AdamW', args: () => ['--optimizer', 'sgd'] },
  { name: 'train-bn', label: 'BatchNorm trained in steps 7–8', args: () => ['--train-bn'] },
  { name: 'valley', label: "step 2's `valley` rule instead of `minDiv10`", args: () => ['--lr-rule', 'valley'] },
  { name: 'no-warmup', label: "no warm-up in step 8's first cycle", args: () => ['--warmup-epochs', '0'] },
  { name: 'no-augment', label: 'no augmentation (preset none)', args: () => ['--preset', 'none'] },
  { name: 'dihedral', label: 'dihedral flips (preset top-down)', args: () => ['--preset', 'top-down'] },
];

export interface EvalRunKey {
  perClass: number;
  variant: string;
  seed: number;
}

/** What one run measured (accuracies are fractions of the validation set, 20 images per class). */
export interface EvalRunResult extends EvalRunKey {
  commit: string;
  size: number;
  args: string[];
  finishedAt: string;
  /** Best validation accuracy over every epoch of steps 3–8. */
  bestEpoch: number;
  /** The kept model (best checkpoint) as the Results page evaluates it, without and with TTA. */
  kept: number;
  keptTta: number;
  ensemble: number | null;
  /** With SWA on: the averaged model's accuracy and whether it was kept (absent in runs made before it was recorded). */
  swa?: { accuracy: number; kept: boolean } | null;
  /** The head alone as `finetune train --steps head` runs it: 8 epochs, AdamW 3e-3, best epoch. */
  headOnly: number;
  seconds: number;
  cpuSeconds: number;
}

interface BenchRecipeJson {
  size: number;
  recipe: {
    bestValidAccuracy: number;
    ensemble: { validAccuracy: number } | null;
    kept: { validAccuracy: number; ttaValidAccuracy: number };
    swa?: { validAccuracy: number; kept: boolean } | null;
    seconds: number;
    cpuSeconds: number;
  };
  headOnly8Epochs: { bestValidAccuracy: number };
}

export function runFile(dir: string, key: EvalRunKey): string {
  return join(dir, `${key.perClass}-${key.variant}-s${key.seed}.json`);
}

/** The runs in the order that tells most soonest: each option at one seed before the second and third seeds. */
export function evalPlan(opts: { variants: string[]; seeds: number[]; sets: number[] }): EvalRunKey[] {
  const plan: EvalRunKey[] = [];
  const [first, ...more] = opts.sets;
  if (first !== undefined)
    for (const seed of opts.seeds) for (const variant of opts.variants) plan.push({ perClass: first, variant, seed });
  // Larger sets: one seed, the ranking check.
  for (const perClass of more)
    for (const variant of opts.variants) plan.push({ perClass, variant, seed: opts.seeds[0] ?? 42 });
  return plan;
}

/** Runs one bench-recipe process and keeps its result (written whole or not at all). */
export function runOne(key: EvalRunKey, ctx: { dir: string; commit: string; size: number }): EvalRunResult {
  const variant = EVAL_VARIANTS.find((v) => v.name === key.variant);
  if (!variant) throw new Error(`unknown variant "${key.variant}" (${EVAL_VARIANTS.map((v) => v.name).join(', ')})`);
  const args = variant.args(ctx.size);
  const script = join(import.meta.dirname, '..', 'bench-recipe.ts');
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      script,
      ...['--per-class', String(key.perClass), '--valid-per-class', '20', '--size', String(ctx.size)],
      ...args,
      ...['--machine-defaults', '--seed', String(key.seed)],
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`bench-recipe failed (${JSON.stringify(key)}):\n${r.stderr.slice(-4000)}`);
  const j = JSON.parse(r.stdout) as BenchRecipeJson;
  const result: EvalRunResult = {
    ...key,
    commit: ctx.commit,
    size: j.size,
    args,
    finishedAt: new Date().toISOString(),
    bestEpoch: j.recipe.bestValidAccuracy,
    kept: j.recipe.kept.validAccuracy,
    keptTta: j.recipe.kept.ttaValidAccuracy,
    ensemble: j.recipe.ensemble?.validAccuracy ?? null,
    swa: j.recipe.swa ? { accuracy: j.recipe.swa.validAccuracy, kept: j.recipe.swa.kept } : null,
    headOnly: j.headOnly8Epochs.bestValidAccuracy,
    seconds: j.recipe.seconds,
    cpuSeconds: j.recipe.cpuSeconds,
  };
  mkdirSync(ctx.dir, { recursive: true });
  const file = runFile(ctx.dir, key);
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ ...result, raw: j }, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return result;
}

export function readResults(dir: string): EvalRunResult[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as EvalRunResult);
}

const pct = (x: number) => (100 * x).toFixed(1);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (n − 1); 0 for one value. */
const sd = (xs: number[]) =>
  xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

function cell(xs: number[]): string {
  if (xs.length === 0) return '–';
  return xs.length === 1 ? `${pct(xs[0]!)}` : `${pct(mean(xs))} ± ${pct(sd(xs))} (n=${xs.length})`;
}

/** For SWA rows: the averaged model's own accuracy and how often it beat the best checkpoint (and so was kept). */
function swaNote(rs: EvalRunResult[]): string {
  const swa = rs.flatMap((r) => (r.swa ? [r.swa] : []));
  if (swa.length === 0) return '';
  const kept = swa.filter((s) => s.kept).length;
  return ` (the average: ${cell(swa.map((s) => s.accuracy))}, kept in ${kept} of ${swa.length})`;
}

/**
 * A markdown table per set size: a row per option, mean ± sd over its seeds of the best epoch, the kept model with
 * and without TTA, the ensemble, the head alone, the option's difference from the defaults at the same seeds, and
 * its CPU and wall minutes.
 */
export function evalTable(results: EvalRunResult[]): string {
  const out: string[] = [];
  const sets = [...new Set(results.map((r) => r.perClass))].sort((a, b) => a - b);
  for (const perClass of sets) {
    const inSet = results.filter((r) => r.perClass === perClass);
    const seeds = [...new Set(inSet.map((r) => r.seed))].sort((a, b) => a - b);
    out.push(
      `\n**10 × ${perClass} training images** (seeds ${seeds.join(', ')}; accuracy in %, mean ± sd over seeds)\n`,
    );
    out.push(
      '| option | eight steps, best epoch | kept model | kept + TTA | snapshot ensemble | head alone | best epoch − defaults (same seeds) | CPU min per run | wall min per run |',
    );
    out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    const defaults = new Map(inSet.filter((r) => r.variant === 'defaults').map((r) => [r.seed, r]));
    for (const v of EVAL_VARIANTS) {
      const rs = inSet.filter((r) => r.variant === v.name).sort((a, b) => a.seed - b.seed);
      if (rs.length === 0) continue;
      const paired = rs.filter((r) => defaults.has(r.seed)).map((r) => r.bestEpoch - defaults.get(r.seed)!.bestEpoch);
      const diff = v.name === 'defaults' || paired.length === 0 ? '' : cell(paired).replace(/^(?!-)/, '+');
      out.push(
        `| ${v.label}${swaNote(rs)} | ${cell(rs.map((r) => r.bestEpoch))} | ${cell(rs.map((r) => r.kept))} | ${cell(rs.map((r) => r.keptTta))} | ${cell(rs.flatMap((r) => (r.ensemble === null ? [] : [r.ensemble])))} | ${cell(rs.map((r) => r.headOnly))} | ${diff} | ${minutesColumns(runMinutes(rs))} |`,
      );
    }
  }
  return out.join('\n');
}

/** a − b (fractions) in percentage points, to one decimal. */
const points = (a: number, b: number) => Math.round(1000 * (a - b)) / 10;

/**
 * The options' effects as the app shows them (src-shared/recipe/measuredEffects.ts): at the set with the most seeds,
 * each option's best epoch minus the defaults' at the same seeds, in points (one decimal), with the run's flags.
 */
export function measuredEffectsOf(results: EvalRunResult[], commit: string): MeasuredEffects {
  const seedsOf = (perClass: number) => new Set(results.filter((r) => r.perClass === perClass).map((r) => r.seed)).size;
  const sets = [...new Set(results.map((r) => r.perClass))].sort((a, b) => seedsOf(b) - seedsOf(a) || a - b);
  const perClass = sets[0];
  if (perClass === undefined) throw new Error(`no results for commit ${commit}`);
  const inSet = results.filter((r) => r.perClass === perClass);
  const defaults = new Map(inSet.filter((r) => r.variant === 'defaults').map((r) => [r.seed, r]));
  const options: MeasuredEffects['options'] = {};
  for (const v of EVAL_VARIANTS) {
    if (v.name === 'defaults') continue;
    const rs = inSet.filter((r) => r.variant === v.name && defaults.has(r.seed)).sort((a, b) => a.seed - b.seed);
    if (rs.length === 0) continue;
    options[v.name as MeasuredOption] = {
      flags: rs[0]!.args.join(' '),
      deltas: rs.map((r) => points(r.bestEpoch, defaults.get(r.seed)!.bestEpoch)),
      minutes: runMinutes(rs),
    };
  }
  const atDefaults = [...defaults.values()].sort((a, b) => a.seed - b.seed);
  const onKept = {
    tta: atDefaults.map((r) => points(r.keptTta, r.kept)),
    ensemble: atDefaults.flatMap((r) => (r.ensemble === null ? [] : [points(r.ensemble, r.kept)])),
  };
  const overHead = atDefaults.map((r) => points(r.bestEpoch, r.headOnly));
  return {
    commit,
    perClass,
    size: inSet[0]!.size,
    options,
    onKept,
    overHead,
    defaultsMinutes: runMinutes(atDefaults),
    larger: largerSet(results, perClass),
  };
}

/** Mean CPU and wall minutes of runs, whole (rounded once, so both tables and the app show the same minute). */
const runMinutes = (rs: EvalRunResult[]): RunMinutes => ({
  cpu: Math.round(mean(rs.map((r) => r.cpuSeconds)) / 60),
  wall: Math.round(mean(rs.map((r) => r.seconds)) / 60),
});

/** The largest other set with its defaults run: each option's difference from them (one seed). */
function largerSet(results: EvalRunResult[], perClass: number): MeasuredEffects['larger'] {
  const larger = Math.max(...results.map((r) => r.perClass));
  const defaults = results.find((r) => r.perClass === larger && r.variant === 'defaults');
  if (larger <= perClass || !defaults) return null;
  const options: NonNullable<MeasuredEffects['larger']>['options'] = {};
  const minutes: NonNullable<MeasuredEffects['larger']>['minutes'] = { defaults: runMinutes([defaults]) };
  for (const r of results)
    if (r.perClass === larger && r.seed === defaults.seed && r.variant !== 'defaults') {
      options[r.variant as MeasuredOption] = points(r.bestEpoch, defaults.bestEpoch);
      minutes[r.variant as MeasuredOption] = runMinutes([r]);
    }
  const onKept = {
    tta: points(defaults.keptTta, defaults.kept),
    ensemble: defaults.ensemble === null ? null : points(defaults.ensemble, defaults.kept),
  };
  return {
    perClass: larger,
    seed: defaults.seed,
    overHead: points(defaults.bestEpoch, defaults.headOnly),
    onKept,
    options,
    minutes,
  };
}

/**
 * README's Results table (between its `measured-effects` markers; `npm run eval -- --effects` rewrites it): the eight
 * steps against the head alone, then each option against the defaults, then TTA and the ensemble against the kept
 * model, at both sizes, with the verdict the app shows.
 */
export function measuredEffectsMarkdown(e: MeasuredEffects): string {
  const big = e.larger;
  const bigHead = big ? `10 × ${big.perClass}, seed ${big.seed}` : '10 × 100';
  const rows = [
    `| what | flags | 10 × ${e.perClass}: points, mean ± sd | ${bigHead} | at every seed of 10 × ${e.perClass} | minutes per run, CPU (wall), 10 × ${e.perClass} / ${big ? `10 × ${big.perClass}` : '10 × 100'} |`,
    '| --- | --- | --- | --- | --- | --- |',
    `| **the eight steps at their defaults, against the head alone** | | ${formatDelta(e.overHead)} (${e.overHead.length} seeds) | ${big ? signedPoints(big.overHead) : '–'} | ${verdictWords(effectVerdict(e.overHead))} | ${minutesCell(e.defaultsMinutes, big?.minutes.defaults)} |`,
  ];
  for (const v of EVAL_VARIANTS) {
    const m = e.options[v.name as MeasuredOption];
    if (!m) continue;
    const at = big?.options[v.name as MeasuredOption];
    rows.push(
      `| ${v.label} | \`${m.flags}\` | ${formatDelta(m.deltas)} (${m.deltas.length} seeds) | ${at === undefined ? 'not yet run' : signedPoints(at)} | ${verdictWords(effectVerdict(m.deltas))} | ${minutesCell(m.minutes, big?.minutes[v.name as MeasuredOption])} |`,
    );
  }
  for (const [what, label] of [
    ['tta', 'TTA on the kept model, against the kept model'],
    ['ensemble', 'the snapshot ensemble, against the kept model'],
  ] as const) {
    const d = e.onKept[what];
    const at = big?.onKept[what];
    if (d.length > 0)
      rows.push(
        `| ${label} | | ${formatDelta(d)} (${d.length} seeds) | ${at === undefined || at === null ? '–' : signedPoints(at)} | ${verdictWords(effectVerdict(d))} | (in the defaults' run) |`,
      );
  }
  return rows.join('\n');
}

const minutes = (m: RunMinutes) => `${m.cpu} (${m.wall})`;
/** docs/results.md's two columns, CPU then wall minutes. */
const minutesColumns = (m: RunMinutes) => `${m.cpu} | ${m.wall}`;
const minutesCell = (small: RunMinutes, big: RunMinutes | undefined) =>
  `${minutes(small)} / ${big === undefined ? '–' : minutes(big)}`;

function verdictWords(v: EffectVerdict): string {
  return { hurt: 'lower', helped: 'higher', same: 'the same', mixed: 'mixed: within the noise' }[v];
}

/** measuredEffectsData.ts's text (Prettier formats it after). */
export function measuredEffectsSource(effects: MeasuredEffects): string {
  return [
    '/**',
    ' * Written by `npm run eval -- --effects COMMIT` from eval/options/COMMIT (test/unit/measured-effects.test.ts);',
    ' * typed where measuredEffects.ts reads it (no import back, so no cycle).',
    ' */',
    `export const MEASURED_EFFECTS = ${JSON.stringify(effects, null, 2)};`,
    '',
  ].join('\n');
}

const TABLE_START = /<!-- measured-effects[^>]*-->\n/;
const TABLE_END = '<!-- /measured-effects -->';

/** Where the table between README's measured-effects markers starts and ends, or null without the markers. */
function tableBounds(readme: string): { from: number; to: number } | null {
  const start = TABLE_START.exec(readme);
  const end = readme.indexOf(TABLE_END);
  return start && end > start.index ? { from: start.index + start[0].length, to: end } : null;
}

/** `readme` with the text between its measured-effects markers replaced by `table`; throws without the markers. */
export function withMeasuredEffectsTable(readme: string, table: string): string {
  const at = tableBounds(readme);
  if (!at) throw new Error('README.md lacks the <!-- measured-effects --> markers');
  return `${readme.slice(0, at.from)}\n${table}\n\n${readme.slice(at.to)}`;
}

/** The table between README's markers, as written (for the test that it is the data's). */
export function measuredEffectsTableIn(readme: string): string | null {
  const at = tableBounds(readme);
  return at ? readme.slice(at.from, at.to).trim() : null;
}
