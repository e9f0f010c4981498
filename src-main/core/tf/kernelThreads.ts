// Our SIMD kernels on more than one core. tfjs-backend-wasm's threaded build runs XNNPACK on a pthread pool, but our
// own kernels (batch norm, masks, depthwise and 1x1 filter gradients) ran on the calling thread alone, about a third
// of a training step. Helpers here are worker threads holding their own instance of our module on the same shared
// memory; a call hands each helper a part (a range of rows, or of channels) and does the first part itself, then
// waits. The parts are fixed by the work's shape, so results do not depend on timing.
import { Worker } from 'node:worker_threads';

/** Below this many float32 elements touched, a kernel runs on the calling thread: a hand-off costs ~20–50 µs. */
export const PARALLEL_MIN_ELEMENTS = 1 << 15;
const MAX_ARGS = 20;
const HELPER_TIMEOUT_MS = 30_000;
/** Checks of the control word before a thread sleeps: tens of microseconds. */
const SPIN_CHECKS = 20_000;

// Control words: [0] generation (bumped per call), [1] helpers done, [2] function index, [3] unused, [4] a helper's
// failure flag. Per helper, 1 + MAX_ARGS float64: its argument count (0: nothing to do this call), then the arguments
// (pointers and sizes fit exactly).
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, args, names, slot } = workerData;
const c = new Int32Array(control);
let exports = null;
try {
  exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
} catch {} // then every call is answered as failed, and the caller does the part itself
const a = new Float64Array(args, slot * ${MAX_ARGS + 1} * 8, ${MAX_ARGS + 1});
let gen = 0; // the value the control block starts with: a call made before this thread ran is not missed
for (;;) {
  // Kernels come in quick succession (a layer's few, then the next layer's): a short spin answers the next call
  // without the wake-up of a sleeping thread, which costs more than many a part.
  for (let i = 0; i < ${SPIN_CHECKS} && Atomics.load(c, 0) === gen; i++);
  Atomics.wait(c, 0, gen);
  gen = Atomics.load(c, 0);
  const n = a[0];
  try {
    if (n > 0) exports[names[c[2]]](...Array.from(a.subarray(1, 1 + n))); // throws when exports is null
  } catch {
    Atomics.store(c, 4, 1);
  }
  Atomics.add(c, 1, 1);
  Atomics.notify(c, 1);
}
`;

export class KernelThreads {
  private readonly control = new Int32Array(new SharedArrayBuffer(5 * 4));
  private readonly args: Float64Array;
  private readonly workers: Worker[];
  private readonly index: Map<string, number>;
  /** Set when a helper failed: from then on every part runs on the calling thread. */
  private broken = false;

  /** `threads` in all, the caller included; `exports` is the caller's own instance of `module`. */
  constructor(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    private readonly exports: Record<string, (...a: number[]) => void>,
    readonly threads: number,
  ) {
    const names = Object.keys(exports).filter((k) => typeof exports[k] === 'function');
    this.index = new Map(names.map((n, i) => [n, i]));
    const helpers = threads - 1;
    const args = new SharedArrayBuffer(Math.max(1, helpers) * (MAX_ARGS + 1) * 8);
    this.args = new Float64Array(args);
    this.workers = Array.from({ length: helpers }, (_, slot) => {
      const w = new Worker(HELPER_SOURCE, {
        eval: true,
        workerData: { module, memory, control: this.control.buffer, args, names, slot },
      });
      w.unref(); // helpers wait for work forever; they must never keep a process alive
      return w;
    });
  }

  /**
   * Runs `name` once per part, in parallel: parts[0] here, parts[k] on helper k (at most `threads` parts), and
   * returns when all are done. Parts must write disjoint memory.
   */
  run(name: string, parts: number[][]): void {
    const helpers = parts.length - 1;
    const fn = this.exports[name];
    if (!fn) throw new Error(`no kernel ${name}`);
    if (helpers > this.workers.length) throw new Error(`${parts.length} parts for ${this.threads} threads`);
    if (helpers === 0 || this.broken) {
      for (const part of parts) fn(...part);
      return;
    }
    const c = this.control;
    // Helpers beyond this call's parts get an argument count of 0 and skip the call.
    for (let k = 1; k <= this.workers.length; k++) {
      const argv = parts[k] ?? [];
      if (argv.length > MAX_ARGS) throw new Error(`${name}: more than ${MAX_ARGS} arguments`);
      this.args[(k - 1) * (MAX_ARGS + 1)] = argv.length;
      this.args.set(argv, (k - 1) * (MAX_ARGS + 1) + 1);
    }
    Atomics.store(c, 2, this.index.get(name)!);
    Atomics.store(c, 1, 0);
    Atomics.store(c, 4, 0);
    Atomics.add(c, 0, 1);
    Atomics.notify(c, 0);
    let failed: unknown = null;
    try {
      fn(...parts[0]!);
    } catch (e) {
      failed = e;
    }
    for (let i = 0; i < SPIN_CHECKS && Atomics.load(c, 1) < this.workers.length; i++);
    const deadline = Date.now() + HELPER_TIMEOUT_MS;
    for (let done = Atomics.load(c, 1); done < this.workers.length; done = Atomics.load(c, 1)) {
      // A helper that never answers (its thread died) must not hang training: fail the step instead.
      if (Date.now() > deadline) {
        this.broken = true;
        throw new Error(`kernel ${name}: a helper thread gave no answer in ${HELPER_TIMEOUT_MS / 1000} s`);
      }
      Atomics.wait(c, 1, done, 1000);
    }
    if (failed) throw failed;
    if (Atomics.load(c, 4) !== 0) {
      // Each kernel writes all of its outputs, so a part redone here replaces whatever the helper left.
      this.broken = true;
      for (const part of parts.slice(1)) fn(...part);
    }
  }

  dispose(): void {
    for (const w of this.workers) void w.terminate();
  }
}

/** Splits [0, n) into at most `parts` contiguous ranges whose starts are multiples of `align`. */
export function splitRange(n: number, parts: number, align = 1): Array<[number, number]> {
  const units = Math.ceil(n / align);
  const k = Math.max(1, Math.min(parts, units));
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < k; i++) {
    const from = Math.min(n, Math.round((units * i) / k) * align);
    const to = Math.min(n, Math.round((units * (i + 1)) / k) * align);
    if (to > from) ranges.push([from, to]);
  }
  return ranges;
}

let wantedThreads = 1;

/** Threads for our kernels on a shared (threaded) wasm memory; the backend sets it to tfjs-wasm's own count. */
export function useKernelThreads(threads: number): void {
  wantedThreads = Math.max(1, Math.floor(threads));
}

export function kernelThreadCount(): number {
  return wantedThreads;
}
