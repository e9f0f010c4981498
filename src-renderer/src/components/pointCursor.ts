/** Keyboard movement along a curve's points (the LR finder's plot): pure, so it can be tested without a page. */

/** The index of the point whose x is nearest `x` on a log scale (the LR axis); 0 for an empty list. */
export function nearestIndex(xs: readonly number[], x: number): number {
  let best = 0;
  let bestDistance = Infinity;
  const target = Math.log(x);
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    const distance = Math.abs(Math.log(v) - target);
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * The point a key moves to from `index` among `count` points, or null for a key that does not move: Right/Up one
 * point up the LR axis, Left/Down one down (10 with Shift), PageUp/PageDown 10, Home/End the ends. The plot reads
 * left to right in both languages, so Right is always toward larger LRs.
 */
export function movePoint(index: number, count: number, key: string, shift: boolean): number | null {
  if (count <= 0) return null;
  const step = shift ? 10 : 1;
  let next: number;
  switch (key) {
    case 'ArrowRight':
    case 'ArrowUp':
      next = index + step;
      break;
    case 'ArrowLeft':
    case 'ArrowDown':
      next = index - step;
      break;
    case 'PageUp':
      next = index + 10;
      break;
    case 'PageDown':
      next = index - 10;
      break;
    case 'Home':
      next = 0;
      break;
    case 'End':
      next = count - 1;
      break;
    default:
      return null;
  }
  return Math.min(count - 1, Math.max(0, next));
}
