/**
 * `npm run bench:scale`: the data layer at a photo library's size (issue 23). Makes folders of N images from
 * Debian's Fashion-MNIST (the training split, 84 px PNG, one folder per class, the app's seeded 20 % validation
 * split) and runs, each in its own process under `ulimit -n 256` (macOS's default): the scan and the rescan of the
 * unchanged folder (scanDataset with HOME/cache/scan, as `finetune scan`), the precompute of the backbone's
 * activations on an empty cache, a 3-epoch head run (the real CLI, `finetune train --steps head`, activations
 * cached) and one epoch of step 4 (augmented images through the frozen backbone into the head). For each: wall time, peak RSS (the kernel's VmHWM)
 * and the most files open at once (polled every 20 ms from /proc; the images open at a time are capped at 16), and
 * the phase's own time where the process does more (starting, loading the backbone).
 * Usage: node --import tsx scripts/bench-scale.ts [--sizes 6000,60000] [--size 96] [--work DIR] [--file-limit 256]
 *        [--phases scan,rescan,precompute,head,step4]
 * The folders are kept in --work (default: TMPDIR/finetune-bench-scale) and reused by the next run.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runPhase, type PhaseName } from './lib/scalePhases';
import { writeFashionTrainSplit } from './fashion-mnist';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '6000,60000' },
    size: { type: 'string', default: '96' },
    work: { type: 'string', default: join(tmpdir(), 'finetune-bench-scale') },
    'file-limit': { type: 'string', default: '256' },
    // Some of the phases (the scan's growth can be re-measured without the hours of precompute): comma-separated.
    phases: { type: 'string', default: 'scan,rescan,precompute,head,step4' },
    // Child mode: one in-process phase (run by the parent under the limit).
    phase: { type: 'string' },
    dir: { type: 'string' },
    home: { type: 'string' },
  },
});

if (values.phase) {
  const seconds = await runPhase(values.phase as PhaseName, values.dir!, values.home!, Number(values.size));
  console.log(JSON.stringify({ seconds }));
  process.exit(0);
}

interface Measure {
  seconds: number;
  peakRssMb: number;
  maxOpenFiles: number;
  /** The phase's own time where the process did more (the precompute without loading the backbone). */
  phaseSeconds?: number;
}

const ROOT = join(import.meta.dirname, '..');
const fileLimit = Number(values['file-limit']);

/** Run `argv` under the open-file limit, polling its peak RSS and open files; fails on a non-zero exit. */
function measured(argv: string[], env: Record<string, string>): Promise<Measure & { stdout: string }> {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('bash', ['-c', `ulimit -n ${fileLimit} && exec ${quoted}`], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const start = performance.now();
  let stdout = '';
  let stderrTail = '';
  let peakRssKb = 0;
  let maxOpen = 0;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-4000);
    process.stderr.write(d);
  });
  const poll = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peakRssKb = Math.max(peakRssKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
      maxOpen = Math.max(maxOpen, readdirSync(`/proc/${child.pid}/fd`).length);
    } catch {
      // Exited between two polls.
    }
  }, 20);
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = (performance.now() - start) / 1000;
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited ${code}:\n${stderrTail}`));
      else resolve({ seconds, peakRssMb: Math.round(peakRssKb / 1024), maxOpenFiles: maxOpen, stdout });
    });
  });
}

const phases = new Set(values.phases.split(','));
/** The table's row names by --phases key. */
const PHASE_KEYS: Record<string, string> = {
  scan: 'scan',
  'rescan (unchanged)': 'rescan',
  'precompute (empty cache)': 'precompute',
  'head, 3 epochs (cached activations)': 'head',
  'step 4, 1 epoch': 'step4',
};
for (const p of phases)
  if (!Object.values(PHASE_KEYS).includes(p))
    throw new Error(`--phases: unknown "${p}" (${Object.values(PHASE_KEYS).join(', ')})`);
const cli = (...args: string[]) => [process.execPath, 'bin/finetune.mjs', ...args];
const phaseChild = (phase: PhaseName, dir: string, home: string) => [
  process.execPath,
  '--import',
  'tsx',
  'scripts/bench-scale.ts',
  '--phase',
  phase,
  '--dir',
  dir,
  '--home',
  home,
  '--size',
  values.size,
];

async function benchFolder(n: number) {
  const dir = join(values.work, `fashion-${n}`);
  if (!existsSync(join(dir, '.complete'))) {
    console.error(`writing ${n} images to ${dir}…`);
    rmSync(dir, { recursive: true, force: true });
    await writeFashionTrainSplit(dir, n, 84);
    writeFileSync(join(dir, '.complete'), '');
  }
  const home = join(values.work, `home-${n}`);
  rmSync(home, { recursive: true, force: true });
  const env = { FINETUNE_HOME: home };
  const size = values.size;
  const rows: Array<[string, Measure]> = [];
  const run = async (name: string, argv: string[]) => {
    if (!phases.has(PHASE_KEYS[name] ?? '')) return;
    console.error(`\n== ${n} images: ${name}`);
    const m = await measured(argv, env);
    const line = m.stdout.trim().split('\n').at(-1) ?? '';
    const own = line.startsWith('{"seconds"') ? (JSON.parse(line) as { seconds: number }).seconds : undefined;
    rows.push([name, { ...m, ...(own === undefined ? {} : { phaseSeconds: own }) }]);
    console.error(`${name}: ${m.seconds.toFixed(1)} s, ${m.peakRssMb} MB, ${m.maxOpenFiles} files`);
  };
  await run('scan', phaseChild('scan', dir, home));
  await run('rescan (unchanged)', phaseChild('scan', dir, home));
  await run('precompute (empty cache)', phaseChild('precompute', dir, home));
  await run(
    'head, 3 epochs (cached activations)',
    cli('train', dir, '--steps', 'head', '--epochs', '3', '--size', size, '--json'),
  );
  await run('step 4, 1 epoch', phaseChild('step4', dir, home));
  return { n, rows };
}

const results = [];
for (const n of values.sizes.split(',').map(Number)) {
  results.push(await benchFolder(n));
  // Each size's table as soon as it is measured: the largest may take long.
  print(results);
}

function print(all: Array<{ n: number; rows: Array<[string, Measure]> }>) {
  console.log(`\nbench:scale, ${values.size} px, ulimit -n ${fileLimit}, ${new Date().toISOString()}`);
  const names = all[0]!.rows.map(([name]) => name);
  const head = `| phase | ${all.map((r) => `${r.n} images: time · peak RSS · files`).join(' | ')} |`;
  console.log(head);
  console.log(`| --- | ${all.map(() => '---').join(' | ')} |`);
  for (const name of names) {
    const cells = all.map((r) => {
      const m = r.rows.find(([k]) => k === name)?.[1];
      if (!m) return '';
      const own = m.phaseSeconds === undefined ? '' : ` (${m.phaseSeconds.toFixed(1)} s in the phase)`;
      return `${m.seconds.toFixed(1)} s${own} · ${m.peakRssMb} MB · ${m.maxOpenFiles}`;
    });
    console.log(`| ${name} | ${cells.join(' | ')} |`);
  }
}
