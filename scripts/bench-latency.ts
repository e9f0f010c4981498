/**
 * Is the app responsive while it trains? Starts the headless server in-process (as the app's main process hosts
 * StudioService), sends a cheap request every ~50 ms over the authenticated WebSocket, first idle, then while a
 * recipe run (started with `recipe.start`, as the wizard does) trains on generated images in its worker thread,
 * and reports p50/p99/max round-trip latency.
 * Usage: node --import tsx scripts/bench-latency.ts [--seconds 20] [--interval 50] [--method app.info|recipe.state]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startHeadless } from '../src-main/server/headless';
import { DEFAULT_RECIPE_CONFIG } from '../src-shared/recipe/config';
import type { RecipeConfig } from '../src-shared/contract';
import { parseBackendChoice, type BackendChoice } from '../src-main/core/tf/backend';
import { makeShapeDataset } from '../test/helpers/images';
import { bridgeClient as client, connect, type Frame } from '../test/helpers/bridgeClient';

export interface LatencyBenchOptions {
  seconds: number;
  intervalMs: number;
  method: 'app.info' | 'recipe.state';
  backend: BackendChoice;
  /** Generated training images per class (three classes) and the recipe's input size. */
  perClass: number;
  size: number;
}

export interface LatencyStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
  /** The server thread's event-loop delay over the same window (p99, ms): stalls no request happened to hit. */
  loopDelayP99: number;
}

export interface LatencyReport {
  idle: LatencyStats;
  training: LatencyStats;
  /** Recipe steps that ran (at least partly) during the training window. */
  steps: string[];
  /** How long `recipe.start` took to answer (the wizard waits for it). */
  startMs: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : NaN;

/** Send `call` every `intervalMs` (one at a time, as a UI poll would) for `seconds`; latencies in ms. */
async function probe(call: () => Promise<Frame>, seconds: number, intervalMs: number): Promise<LatencyStats> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    const f = await call();
    times.push(performance.now() - t0);
    if (!f.ok) throw new Error(`request failed: ${f.error}`);
    await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (performance.now() - t0))));
  }
  loop.disable();
  const sorted = times.sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? NaN,
    loopDelayP99: loop.percentile(99) / 1e6,
  };
}

export async function benchLatency(opts: LatencyBenchOptions): Promise<LatencyReport> {
  const work = mkdtempSync(join(tmpdir(), 'bench-latency-'));
  const renderer = join(work, 'renderer');
  mkdirSync(renderer);
  // The server refuses to start without a built renderer; the bench needs only its WebSocket.
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>bench</title>');
  const data = join(work, 'shapes');
  await makeShapeDataset(data, { perClass: opts.perClass, size: 96, seed: 3 });
  const server = await startHeadless({ home: join(work, 'home'), backend: opts.backend, rendererDir: renderer });
  const ws = await connect(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
  const c = client(ws);
  try {
    await c.call('app.info', {}); // loads the backend: not part of either measure
    let runId = -1;
    const request = () => (opts.method === 'app.info' ? c.call('app.info', {}) : c.call('recipe.state', { runId }));
    // The idle baseline needs a run for recipe.state: a one-step run that finishes before measuring.
    const start = async (untilStep: number) => {
      const config: RecipeConfig = { ...DEFAULT_RECIPE_CONFIG, dir: data, size: opts.size, batchSize: 16 };
      const f = await c.call('recipe.start', { config, untilStep });
      if (!f.ok) throw new Error(`recipe.start failed: ${f.error}`);
      const id = (f.result as { runId: number }).runId;
      const done = new Promise<string>((resolve) => {
        const off = c.onEvent((e) => {
          if (e.event === 'train.done' && e.payload?.runId === id) {
            off();
            resolve(String(e.payload.status));
          }
        });
      });
      return { id, done };
    };
    if (opts.method === 'recipe.state') {
      const first = await start(1);
      runId = first.id;
      await first.done;
    }
    const idle = await probe(request, opts.seconds, opts.intervalMs);

    const steps = new Set<string>();
    const offSteps = c.onEvent((e) => {
      if (e.event === 'recipe.step' && e.payload?.status === 'started') steps.add(String(e.payload.name));
    });
    // recipe.state keeps asking about the finished run: the running one has no checkpoint until its step 1 ends.
    const t0 = performance.now();
    const run = await start(8);
    const startMs = performance.now() - t0;
    let finished = false;
    void run.done.then(() => (finished = true));
    const training = await probe(request, opts.seconds, opts.intervalMs);
    offSteps();
    if (finished) console.error('warning: the run ended before the window did; use more images (--per-class)');
    await c.call('train.cancel', { runId: run.id });
    await run.done;
    return { idle, training, steps: [...steps], startMs };
  } finally {
    ws.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      interval: { type: 'string', default: '50' },
      method: { type: 'string', default: 'app.info' },
      backend: { type: 'string', default: 'wasm' },
      'per-class': { type: 'string', default: '40' },
      size: { type: 'string', default: '64' },
    },
  });
  if (values.method !== 'app.info' && values.method !== 'recipe.state')
    throw new Error('--method: app.info or recipe.state');
  const r = await benchLatency({
    seconds: Number(values.seconds),
    intervalMs: Number(values.interval),
    method: values.method,
    backend: parseBackendChoice(values.backend),
    perClass: Number(values['per-class']),
    size: Number(values.size),
  });
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  console.log(
    `request latency (${values.method}) while training p50 ${ms(r.training.p50)} p99 ${ms(r.training.p99)} max ${ms(r.training.max)} ` +
      `(idle p50 ${ms(r.idle.p50)} p99 ${ms(r.idle.p99)} max ${ms(r.idle.max)})`,
  );
  console.log(
    `main-thread event-loop delay p99 while training ${ms(r.training.loopDelayP99)} (idle ${ms(r.idle.loopDelayP99)})`,
  );
  console.log(`recipe.start answered in ${ms(r.startMs)} (${3 * Number(values['per-class'])} images)`);
  console.log(`recipe steps during the window: ${r.steps.join(', ') || 'none'}`);
}
