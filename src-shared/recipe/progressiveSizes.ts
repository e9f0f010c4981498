/**
 * Progressive resizing's plan (fast.ai lesson 2), pure so that the wizard can check a config with it: which sizes
 * step 8's cycles run at, and why a config's sizes cannot run. The size change itself is in progressive.ts.
 */
import type { RecipeConfig } from '../schemas';

export type SizeConfig = Pick<RecipeConfig, 'size' | 'cycles' | 'progressive'>;

/** Why a config's progressive sizes cannot run (null: they can, or there are none). */
export function progressiveProblem(config: SizeConfig): string | null {
  const sizes = config.progressive ?? [];
  if (sizes.length === 0) return null;
  if (sizes.some((s, i) => i > 0 && s <= sizes[i - 1]!)) {
    return `Progressive sizes must increase (got ${sizes.join(', ')}).`;
  }
  if (sizes[sizes.length - 1]! >= config.size) {
    return `Progressive sizes must be smaller than the image size ${config.size} (got ${sizes.join(', ')}).`;
  }
  if (sizes.length >= config.cycles) {
    return `Progressive resizing needs more step 8 cycles than smaller sizes: ${sizes.length} size(s), ${config.cycles} cycle(s); the last cycle runs at ${config.size}.`;
  }
  return null;
}

/**
 * The image size of each of step 8's cycles: one cycle per smaller size, in order, then the rest at `size` (3 cycles
 * with sizes [64] → 64, size, size; with [48, 64] → 48, 64, size). The cycles at `size` are the longer ones
 * (cycle_mult), and with two or more of them the snapshot ensemble and SWA still have members.
 */
export function cycleSizes(config: SizeConfig): number[] {
  const small = config.progressive ?? [];
  return Array.from({ length: config.cycles }, (_, i) => small[i] ?? config.size);
}

export interface SizeSegment {
  size: number;
  /** The epoch (of step 8, exclusive) where this size ends. */
  untilEpoch: number;
}

/** Consecutive cycles at one size as one fit each: cycle k lasts cycleMult^k epochs (cycle_len=1). */
export function sizeSegments(config: SizeConfig & Pick<RecipeConfig, 'cycleMult'>): SizeSegment[] {
  const out: SizeSegment[] = [];
  let epoch = 0;
  cycleSizes(config).forEach((size, k) => {
    epoch += config.cycleMult ** k;
    const last = out[out.length - 1];
    if (last && last.size === size) last.untilEpoch = epoch;
    else out.push({ size, untilEpoch: epoch });
  });
  return out;
}
