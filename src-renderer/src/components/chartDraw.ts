/**
 * The parts of `LineChart.svelte` that do not depend on the component: tick formatting, ranges and log ticks for
 * the scales, and the canvas drawing of marker lines and shaded bands (uPlot draw hooks).
 */
import uPlot from 'uplot';
import type { ChartBand, ChartMarker } from './chart';

export type Range = [number, number];

const LABEL_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/**
 * A colour for the canvas: `var(--name)` (or `var(--name, fallback)`) is read from the document's CSS variables,
 * so that charts follow the light or dark theme; any other CSS colour is returned as it is.
 */
export function resolveColor(color: string): string {
  const m = /^var\(\s*(--[\w-]+)\s*(?:,\s*(.+))?\)$/.exec(color.trim());
  if (!m) return color;
  const value =
    typeof document === 'undefined' ? '' : getComputedStyle(document.documentElement).getPropertyValue(m[1]!).trim();
  return value || (m[2]?.trim() ?? '#888888');
}

/** Legend values without a `format`: 4 significant digits, exponents for the very large and small. */
export function defaultFormat(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e4 || abs < 1e-3) return value.toExponential(1);
  return String(Number(value.toPrecision(4)));
}

/** Tick steps for axes with only whole numbers. */
export const INTEGER_INCRS = [
  1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 1e5,
];

export function axisValues(format: ((value: number) => string) | undefined): uPlot.Axis.Values | undefined {
  if (!format) return undefined;
  return (_u, splits) => splits.map((v) => (v === null || v === undefined ? '' : format(v)));
}

/** A scale's range from its data: padded for y, exact for x, a decade either side of a single log value. */
export function autoRange(min: number | null, max: number | null, log: boolean, pad: boolean): Range {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return log ? [1, 10] : [0, 1];
  if (log) return min === max ? [min / 10, max * 10] : [min, max];
  if (pad) {
    const [lo, hi] = uPlot.rangeNum(min, max, 0.1, true);
    return [lo ?? min, hi ?? max];
  }
  return min === max ? [min - 1, max + 1] : [min, max];
}

/** Log axis ticks: powers of ten (with 2 and 5 between them when the range spans few decades). */
export function logSplits(_u: uPlot, _axis: number, min: number, max: number): number[] {
  if (!(min > 0) || !(max > min)) return [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const decades = hi - lo;
  const mults = decades <= 2 ? [1, 2, 5] : [1];
  const every = Math.max(1, Math.ceil(decades / 12));
  const out: number[] = [];
  for (let e = lo; e <= hi; e += every) {
    for (const m of mults) {
      const v = m * 10 ** e;
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(Number(v.toPrecision(12)));
    }
  }
  return out;
}

/** Rows of marker labels: a label goes on the first row where it does not overlap the previous one. */
const LABEL_ROWS = 3;

/** Vertical marker lines (dashed unless `solid`) with their labels, over the series. */
export function drawMarkers(u: uPlot, markers: readonly ChartMarker[], logX: boolean): void {
  if (markers.length === 0) return;
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  const ratio = uPlot.pxRatio;
  const rowHeight = 14 * ratio;
  const labelBg = resolveColor('var(--chart-label-bg, rgba(255, 255, 255, 0.85))');
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  ctx.font = `${Math.round(11 * ratio)}px ${LABEL_FONT}`;
  // uPlot leaves the axes' alignment on the context.
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  const rowRight: number[] = new Array<number>(LABEL_ROWS).fill(-Infinity);
  const visible = markers
    .filter((m) => Number.isFinite(m.x) && !(logX && m.x <= 0))
    .map((m) => ({ m, px: Math.round(u.valToPos(m.x, 'x', true)) + 0.5 }))
    .filter(({ px }) => px >= left - 1 && px <= left + width + 1)
    .sort((a, b) => a.px - b.px);
  for (const { m: marker, px } of visible) {
    const color = resolveColor(marker.color ?? 'var(--chart-axis, #8a94a6)');
    ctx.strokeStyle = color;
    ctx.lineWidth = (marker.width ?? 1) * ratio;
    ctx.setLineDash(marker.solid ? [] : [4 * ratio, 4 * ratio]);
    ctx.beginPath();
    ctx.moveTo(px, top);
    ctx.lineTo(px, top + height);
    ctx.stroke();
    if (marker.label) {
      const textWidth = ctx.measureText(marker.label).width;
      const pad = 3 * ratio;
      const flip = px + pad + textWidth > left + width;
      const textLeft = flip ? px - pad - textWidth : px + pad;
      const row = rowRight.findIndex((right) => textLeft > right + 4 * ratio);
      if (row >= 0) {
        const y = top + pad + row * rowHeight;
        ctx.fillStyle = labelBg;
        ctx.fillRect(textLeft - 2 * ratio, y - ratio, textWidth + 4 * ratio, rowHeight - ratio);
        ctx.fillStyle = color;
        ctx.fillText(marker.label, textLeft, y);
        rowRight[row] = textLeft + textWidth;
      }
    }
  }
  ctx.restore();
}

/** A band's left and right edge in canvas pixels, clipped to the plot, or null when it is not visible. */
function bandPixels(u: uPlot, band: ChartBand, logX: boolean): [number, number] | null {
  if (!Number.isFinite(band.from) || !Number.isFinite(band.to)) return null;
  if (logX && (band.from <= 0 || band.to <= 0)) return null;
  const { left, width } = u.bbox;
  const a = u.valToPos(Math.min(band.from, band.to), 'x', true);
  const b = u.valToPos(Math.max(band.from, band.to), 'x', true);
  const x0 = Math.max(left, a);
  const x1 = Math.min(left + width, b);
  return x1 > x0 ? [x0, x1] : null;
}

/** Band fills, under the grid and the series. */
export function drawBands(u: uPlot, bands: readonly ChartBand[], logX: boolean): void {
  if (bands.length === 0) return;
  const { ctx } = u;
  const { top, height } = u.bbox;
  ctx.save();
  for (const band of bands) {
    const px = bandPixels(u, band, logX);
    if (!px) continue;
    ctx.fillStyle = resolveColor(band.color);
    ctx.fillRect(px[0], top, px[1] - px[0], height);
  }
  ctx.restore();
}

/** Band labels, over the series, at the foot of the band. */
export function drawBandLabels(u: uPlot, bands: readonly ChartBand[], logX: boolean): void {
  if (bands.length === 0) return;
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  const ratio = uPlot.pxRatio;
  ctx.save();
  ctx.font = `600 ${Math.round(11 * ratio)}px ${LABEL_FONT}`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'bottom';
  for (const band of bands) {
    const px = bandPixels(u, band, logX);
    if (!px || !band.label) continue;
    const textWidth = ctx.measureText(band.label).width;
    const pad = 4 * ratio;
    const center = (px[0] + px[1]) / 2;
    const textLeft = Math.min(Math.max(center - textWidth / 2, left + pad), left + width - pad - textWidth);
    const y = top + height - pad;
    ctx.fillStyle = resolveColor('var(--chart-label-bg, rgba(255, 255, 255, 0.85))');
    ctx.fillRect(textLeft - pad, y - 15 * ratio, textWidth + 2 * pad, 15 * ratio + ratio);
    ctx.fillStyle = resolveColor(band.labelColor ?? 'var(--text, #1f2633)');
    ctx.fillText(band.label, textLeft, y);
  }
  ctx.restore();
}
