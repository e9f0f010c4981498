/**
 * The pure parts of the wizard's accessibility and comfort work: the virtualized thumbnail grid's row window, the
 * LR plot's keyboard movement along the curve, and how often a progress bar speaks to screen readers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnsFor, gridRows, rowOffsets, rowWindow } from '../../src-renderer/src/components/thumbWindow';
import { movePoint, nearestIndex } from '../../src-renderer/src/components/pointCursor';
import { announcement } from '../../src-renderer/src/components/progressAnnounce';

const HEIGHTS = { heading: 30, thumbs: 82 };

test('gridRows: a heading per non-empty group, then rows of `columns` thumbnails', () => {
  assert.deepEqual(gridRows([5, 0, 2], 3), [
    { kind: 'heading', group: 0 },
    { kind: 'thumbs', group: 0, from: 0, to: 3 },
    { kind: 'thumbs', group: 0, from: 3, to: 5 },
    { kind: 'heading', group: 2 },
    { kind: 'thumbs', group: 2, from: 0, to: 2 },
  ]);
  assert.deepEqual(gridRows([], 4), []);
  // A zero-width container still lays out one column, never an endless loop.
  assert.equal(gridRows([3], 0).length, 4);
});

test('rowOffsets: fixed heights by kind, the total last', () => {
  const rows = gridRows([5, 2], 3);
  assert.deepEqual(rowOffsets(rows, HEIGHTS), [0, 30, 112, 194, 224, 306]);
});

test('rowWindow: only the rows overlapping the viewport, plus the overscan, clamped to the list', () => {
  // 20,000 images in 10 classes, 8 columns: 10 headings + 2,500 thumbnail rows.
  const rows = gridRows(new Array<number>(10).fill(2000), 8);
  assert.equal(rows.length, 10 + 2500);
  const offsets = rowOffsets(rows, HEIGHTS);
  assert.equal(offsets.at(-1), 10 * 30 + 2500 * 82);

  // At the top: rows 0..6 are (partly) in a 440 px viewport (30 + 5 × 82 = 440 exactly: row 6 starts at 440).
  assert.deepEqual(rowWindow(offsets, 0, 440, 0), { start: 0, end: 6 });
  assert.deepEqual(rowWindow(offsets, 0, 440, 4), { start: 0, end: 10 });

  // Scrolled half-way into row 100 (a thumbnail row of the first group): it and the rows below it in view.
  const top100 = offsets[100]!;
  const w = rowWindow(offsets, top100 + 41, 440, 0);
  assert.equal(w.start, 100);
  assert.ok(offsets[w.end - 1]! < top100 + 41 + 440 && offsets[w.end]! >= top100 + 41 + 440, JSON.stringify(w));
  assert.ok(w.end - w.start <= 7, 'a screenful of rows, not thousands');
  const over = rowWindow(offsets, top100 + 41, 440, 4);
  assert.deepEqual(over, { start: w.start - 4, end: w.end + 4 });

  // At the very bottom (and past it), the window ends at the last row.
  const total = offsets.at(-1)!;
  const end = rowWindow(offsets, total - 440, 440, 4);
  assert.equal(end.end, rows.length);
  assert.ok(end.start > rows.length - 20);
  assert.deepEqual(rowWindow(offsets, total + 5000, 440, 0), { start: rows.length - 1, end: rows.length });
  // No rows, no window; a negative scroll (rubber-banding) counts as the top.
  assert.deepEqual(rowWindow([0], 0, 440, 4), { start: 0, end: 0 });
  assert.deepEqual(rowWindow(offsets, -50, 440, 0), rowWindow(offsets, 0, 440, 0));
});

test('columnsFor: as many fixed tiles as fit with their gaps, at least one', () => {
  assert.equal(columnsFor(0, 76, 6), 1);
  assert.equal(columnsFor(76, 76, 6), 1);
  assert.equal(columnsFor(158, 76, 6), 2);
  assert.equal(columnsFor(157, 76, 6), 1);
  assert.equal(columnsFor(650, 76, 6), 8); // 8 × 76 + 7 × 6 = 650
  assert.equal(columnsFor(649, 76, 6), 7);
});

test('movePoint: arrows by one (Shift: ten), Page keys by ten, Home/End to the ends, clamped; other keys do not move', () => {
  assert.equal(movePoint(5, 60, 'ArrowRight', false), 6);
  assert.equal(movePoint(5, 60, 'ArrowUp', false), 6);
  assert.equal(movePoint(5, 60, 'ArrowLeft', false), 4);
  assert.equal(movePoint(5, 60, 'ArrowRight', true), 15);
  assert.equal(movePoint(5, 60, 'ArrowLeft', true), 0);
  assert.equal(movePoint(55, 60, 'PageUp', false), 59);
  assert.equal(movePoint(5, 60, 'Home', false), 0);
  assert.equal(movePoint(5, 60, 'End', false), 59);
  assert.equal(movePoint(5, 60, 'Enter', false), null);
  assert.equal(movePoint(5, 60, 'a', false), null);
  assert.equal(movePoint(0, 0, 'ArrowRight', false), null);
});

test('nearestIndex: the nearest point on a log axis', () => {
  const xs = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1];
  assert.equal(nearestIndex(xs, 3e-4), 1); // log-nearer to 1e-4 than to 1e-3
  assert.equal(nearestIndex(xs, 4e-4), 2);
  assert.equal(nearestIndex(xs, 1), 4);
  assert.equal(nearestIndex(xs, 1e-9), 0);
});

test('announcement: the percentage in steps of 10, so a live region speaks ten times a run, not every batch', () => {
  const spoken = new Set<number>();
  for (let done = 0; done <= 937; done++) spoken.add(announcement(done / 937));
  assert.deepEqual([...spoken], [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  assert.equal(announcement(0.999), 90);
  assert.equal(announcement(1), 100);
  assert.equal(announcement(0.3), 30, 'floating point: 0.3 × 100 is 30, not 29');
  assert.equal(announcement(NaN), 0);
  assert.equal(announcement(2), 100);
});
