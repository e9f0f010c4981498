/**
 * The row layout of the virtualized thumbnail grid, as pure functions: groups (one per class) become a heading row
 * and rows of `columns` thumbnails; every kind of row has a fixed height, so the offset of any row is known without
 * measuring the page, and only the rows in view (plus some overscan) are put in the page.
 */

export type GridRow =
  | { kind: 'heading'; group: number }
  /** Thumbnails [from, to) of the group. */
  | { kind: 'thumbs'; group: number; from: number; to: number };

export interface RowHeights {
  heading: number;
  thumbs: number;
}

/** Rows for groups of the given sizes: a heading, then ceil(size / columns) thumbnail rows; empty groups vanish. */
export function gridRows(groupSizes: readonly number[], columns: number): GridRow[] {
  const cols = Math.max(1, Math.floor(columns));
  const rows: GridRow[] = [];
  groupSizes.forEach((size, group) => {
    if (size <= 0) return;
    rows.push({ kind: 'heading', group });
    for (let from = 0; from < size; from += cols)
      rows.push({ kind: 'thumbs', group, from, to: Math.min(size, from + cols) });
  });
  return rows;
}

/** The top of each row and, last, the total height: `rows.length + 1` numbers. */
export function rowOffsets(rows: readonly GridRow[], heights: RowHeights): number[] {
  const offsets = new Array<number>(rows.length + 1);
  let y = 0;
  rows.forEach((row, i) => {
    offsets[i] = y;
    y += row.kind === 'heading' ? heights.heading : heights.thumbs;
  });
  offsets[rows.length] = y;
  return offsets;
}

/** The first index i with offsets[i] > y (offsets ascending), by bisection. */
function firstAbove(offsets: readonly number[], y: number): number {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid]! > y) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The rows [start, end) to render for a viewport of `viewportHeight` scrolled to `scrollTop`: those that overlap
 * it, plus `overscan` rows either side (so a fast scroll does not show blanks). O(log rows).
 */
export function rowWindow(
  offsets: readonly number[],
  scrollTop: number,
  viewportHeight: number,
  overscan: number,
): { start: number; end: number } {
  const count = offsets.length - 1;
  if (count <= 0) return { start: 0, end: 0 };
  const top = Math.max(0, scrollTop);
  const bottom = top + Math.max(0, viewportHeight);
  // The row containing `top` is the last one starting at or before it.
  const first = Math.min(count - 1, Math.max(0, firstAbove(offsets, top) - 1));
  // Rows starting before `bottom` are (partly) in view.
  const last = Math.min(count, Math.max(first + 1, firstAbove(offsets, bottom - 1e-6)));
  return { start: Math.max(0, first - overscan), end: Math.min(count, last + overscan) };
}

/** How many fixed-width tiles fit in `width` with `gap` between them (at least one). */
export function columnsFor(width: number, tile: number, gap: number): number {
  if (!(width > 0)) return 1;
  return Math.max(1, Math.floor((width + gap) / (tile + gap)));
}
