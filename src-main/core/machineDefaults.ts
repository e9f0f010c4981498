/**
 * Defaults that fit the machine: the image size and batch size a run starts with, chosen from the backend that
 * loaded (a GPU trains MobileNetV2 at 224 px in seconds per epoch; one or two CPU cores need smaller images to finish
 * the eight steps while the user waits), and LR range tests on the whole network kept short next to step 8. Every
 * value is only a default: flags, the wizard and the recipe config override it.
 */
import type { Message } from '../../src-shared/messages';

export interface MachineFit {
  size: number;
  batchSize: number;
  /** One line for people: why these values. */
  reason: string;
}

/** Per backend; pure JavaScript (`cpu`) is ~100x slower than wasm, so it gets the smallest useful size. */
const FITS: Record<string, Omit<MachineFit, 'reason'> & { why: string }> = {
  'tensorflow-gpu': { size: 224, batchSize: 32, why: 'a GPU: MobileNetV2 at its native 224 px' },
  tensorflow: { size: 160, batchSize: 32, why: 'native TensorFlow on the CPU' },
  wasm: { size: 128, batchSize: 16, why: 'WebAssembly on the CPU: 128 px keeps full fine-tuning to ~1 s per batch' },
  cpu: { size: 64, batchSize: 16, why: 'the pure-JavaScript backend (slow): small images' },
};

export function machineFit(backend: { name: string; threads: number }): MachineFit {
  const fit = FITS[backend.name] ?? FITS.wasm!;
  const threads = backend.name === 'wasm' ? `, ${backend.threads} thread${backend.threads === 1 ? '' : 's'}` : '';
  return {
    size: fit.size,
    batchSize: fit.batchSize,
    reason: `${fit.size} px, batch ${fit.batchSize}: ${fit.why}${threads}`,
  };
}

/** `machineFit(backend).reason` as a code, which the renderer says in the user's language. */
export function machineFitMessage(backend: { name: string; threads: number }): Message {
  const fit = FITS[backend.name] ?? FITS.wasm!;
  const params = { size: fit.size, batch: fit.batchSize };
  if (backend.name === 'tensorflow-gpu') return { code: 'backend.fitGpu', params };
  if (backend.name === 'tensorflow') return { code: 'backend.fitTensorflow', params };
  if (backend.name === 'cpu') return { code: 'backend.fitCpu', params };
  return { code: 'backend.fitWasm', params: { ...params, count: backend.threads } };
}

/** Fewest points for a usable loss-vs-LR curve (smoothing and the valley rule need a few dozen). */
export const MIN_FULL_LR_FIND_ITERS = 30;

/**
 * Iterations of the LR range test on the unfrozen network (recipe step 7): each is a full fine-tuning step, so the
 * test gets at most half of step 8's iterations (and at least `MIN_FULL_LR_FIND_ITERS`, at most `configured`).
 * `override` (the user's) wins.
 */
export function fullLrFindIters(opts: {
  configured: number;
  step8Iterations: number;
  override?: number | null;
}): number {
  if (opts.override != null) return opts.override;
  const half = Math.ceil(opts.step8Iterations / 2);
  return Math.min(opts.configured, Math.max(MIN_FULL_LR_FIND_ITERS, half));
}
