/**
 * The math of the LR range test (Leslie Smith; fastai's `lr_find`): the LR ramp, loss smoothing, the divergence
 * stop, and fastai's suggestion rules (`valley`, `steep`, `minimum`), as pure functions over plain arrays.
 */
import { englishText, type Message } from '../../../src-shared/messages';

export type LrRangeMode = 'exp' | 'linear';

/**
 * LR for each of `iters` iterations, from `start` to exactly `end` at the last one.
 * exp: start * (end/start)^(i/(iters-1)); linear: start + (end-start) * i/(iters-1).
 * (fastai's LRFinder uses i/num_it, so its last LR stops one step short of `end`.)
 */
export function lrRangeSchedule(start = 1e-7, end = 10, iters = 100, mode: LrRangeMode = 'exp'): number[] {
  if (!Number.isInteger(iters) || iters < 1) throw new RangeError(`iters must be an integer >= 1 (got ${iters})`);
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new RangeError('start and end must be finite numbers');
  if (mode === 'exp') {
    if (start <= 0 || end <= 0) throw new RangeError('exp mode needs start > 0 and end > 0');
  } else if (mode === 'linear') {
    if (start < 0 || end < 0) throw new RangeError('linear mode needs start >= 0 and end >= 0');
  } else {
    throw new RangeError(`mode must be 'exp' or 'linear' (got ${String(mode)})`);
  }
  if (iters === 1) return [start];
  const out = new Array<number>(iters);
  for (let i = 0; i < iters; i++) {
    const t = i / (iters - 1);
    out[i] = mode === 'exp' ? start * (end / start) ** t : start + (end - start) * t;
  }
  return out;
}

/**
 * Exponential moving average with bias correction, as fastai's AvgSmoothLoss:
 * avg = beta*avg + (1-beta)*loss; smoothed[i] = avg / (1 - beta^(i+1)). A non-finite loss poisons the rest.
 */
export function smoothLosses(losses: readonly number[], beta = 0.98): number[] {
  if (!(beta >= 0 && beta < 1)) throw new RangeError(`beta must be in [0, 1) (got ${beta})`);
  let avg = 0;
  return losses.map((loss, i) => {
    avg = beta * avg + (1 - beta) * loss;
    return avg / (1 - beta ** (i + 1));
  });
}

/**
 * Stop the range test once the smoothed loss is non-finite or exceeds `factor` times the best smoothed loss so far
 * (fastai: update `best` first, then check).
 */
export function shouldStop(smoothed: number, best: number, factor = 4): boolean {
  if (!Number.isFinite(smoothed)) return true;
  return Number.isFinite(best) && smoothed > factor * best;
}

export interface LrSuggestion {
  /** The suggested learning rate. */
  lr: number;
  /** Index into the input arrays of the curve point the rule picked (for minDiv10: the minimum itself). */
  index: number;
  /** Smoothed loss at `index`. */
  loss: number;
  /** One line for the user explaining how this LR was picked (English, for logs and the CLI). */
  rule: string;
  /** `rule` as a code, said in the user's language. */
  ruleMessage: Message;
}

export interface LrSuggestions {
  /** fastai's default rule: the middle of the longest stretch of falling loss. */
  valley: LrSuggestion | null;
  /** Where the loss falls fastest per decade of LR. */
  steep: LrSuggestion | null;
  /** One tenth of the LR at the lowest loss. */
  minDiv10: LrSuggestion | null;
  /** Index (into the input arrays) of the lowest smoothed loss in the window, or null. */
  minIndex: number | null;
  /** The half-open index range [start, end) that the rules looked at. */
  window: { start: number; end: number };
  /** Why some or all suggestions are null. */
  note?: string;
  /** `note` as codes, one per reason. */
  noteMessages?: Message[];
}

export interface SuggestOptions {
  /** Planned iterations of the test; fastai skips the first numIt/10 points. Default: lrs.length. */
  numIt?: number;
  /** Points skipped at the start (noisy). Default floor(numIt / 10). */
  skipStart?: number;
  /** Points skipped at the end (divergence). Default 5. */
  skipEnd?: number;
}

/** Fewer points than this make every rule meaningless. */
export const MIN_POINTS = 5;

const fmt = (lr: number) => lr.toExponential(1);

/** A rule's explanation: its code and its English text. */
const explained = (ruleMessage: Message) => ({ rule: englishText(ruleMessage), ruleMessage });

/**
 * fastai's suggestions over the smoothed loss curve. Like `Learner.lr_find`, the curve is cut to
 * [numIt/10, len-5) and truncated at the first non-finite loss before the rules run.
 */
export function suggestLrs(
  lrs: readonly number[],
  smoothedLosses: readonly number[],
  opts: SuggestOptions = {},
): LrSuggestions {
  if (lrs.length !== smoothedLosses.length) {
    throw new RangeError(`lrs and losses differ in length (${lrs.length} vs ${smoothedLosses.length})`);
  }
  const numIt = opts.numIt ?? lrs.length;
  const start = Math.max(0, opts.skipStart ?? Math.floor(numIt / 10));
  let end = Math.max(start, lrs.length - (opts.skipEnd ?? 5));
  for (let i = start; i < end; i++) {
    if (!Number.isFinite(smoothedLosses[i]!) || !Number.isFinite(lrs[i]!)) {
      end = i;
      break;
    }
  }
  const n = end - start;
  if (n < MIN_POINTS) {
    const note: Message = { code: 'lrRule.tooFewPoints', params: { n, need: MIN_POINTS } };
    return {
      valley: null,
      steep: null,
      minDiv10: null,
      minIndex: null,
      window: { start, end },
      note: englishText(note),
      noteMessages: [note],
    };
  }
  const lr = lrs.slice(start, end);
  const loss = smoothedLosses.slice(start, end);
  const notes: Message[] = [];

  // minimum: lr at the lowest loss, divided by 10 (first index on ties, like argmin).
  let minI = 0;
  for (let i = 1; i < n; i++) if (loss[i]! < loss[minI]!) minI = i;
  const minDiv10: LrSuggestion = {
    lr: lr[minI]! / 10,
    index: start + minI,
    loss: loss[minI]!,
    ...explained({ code: 'lrRule.minDiv10', params: { lr: fmt(lr[minI]!) } }),
  };

  // steep: most negative d(loss)/d(log lr); the left point of that segment (log base does not change the argmin).
  let steepI = -1;
  let steepG = Infinity;
  for (let i = 0; i + 1 < n; i++) {
    const g = (loss[i + 1]! - loss[i]!) / (Math.log(lr[i + 1]!) - Math.log(lr[i]!));
    if (Number.isFinite(g) && g < steepG) {
      steepG = g;
      steepI = i;
    }
  }
  let steep: LrSuggestion | null = null;
  if (steepI >= 0 && steepG < 0) {
    steep = {
      lr: lr[steepI]!,
      index: start + steepI,
      loss: loss[steepI]!,
      ...explained({ code: 'lrRule.steep', params: {} }),
    };
  } else {
    notes.push({ code: 'lrRule.noSteep', params: {} });
  }

  // valley (fastai, from ESRI): longest decreasing subsequence ending at each point, kept exactly as fastai writes
  // it (including its start being one before the first point of the run), then about halfway along that run.
  const lds = new Array<number>(n).fill(1);
  let maxStart = 0;
  let maxEnd = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (loss[i]! < loss[j]! && lds[i]! < lds[j]! + 1) lds[i] = lds[j]! + 1;
      if (lds[maxEnd]! < lds[i]!) {
        maxEnd = i;
        maxStart = maxEnd - lds[maxEnd]!;
      }
    }
  }
  let valley: LrSuggestion | null = null;
  if (lds[maxEnd]! > 1) {
    const sections = (maxEnd - maxStart) / 3;
    // fastai can land on index -1 (Python then wraps to the last point); clamp to the first point instead.
    const idx = Math.max(0, maxStart + Math.trunc(sections) + Math.trunc(sections / 2));
    const from = lr[Math.max(0, maxStart)]!;
    valley = {
      lr: lr[idx]!,
      index: start + idx,
      loss: loss[idx]!,
      ...explained({ code: 'lrRule.valley', params: { from: fmt(from), to: fmt(lr[maxEnd]!) } }),
    };
  } else {
    notes.push({ code: 'lrRule.noValley', params: {} });
  }

  const out: LrSuggestions = { valley, steep, minDiv10, minIndex: start + minI, window: { start, end } };
  if (notes.length > 0) {
    out.note = notes.map((m) => englishText(m)).join(' ');
    out.noteMessages = notes;
  }
  return out;
}
