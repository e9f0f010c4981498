/** Types for `LineChart.svelte`. */

export interface ChartSeries {
  label: string;
  /** CSS color of the line and its points. */
  color: string;
  /** 'right' plots the series against the second y axis. */
  axis?: 'left' | 'right';
  width?: number;
  dash?: number[];
  /** Draw a dot at each value (use for sparse series such as per-epoch metrics). */
  points?: boolean;
  /** Join values across nulls (sparse series); default true when `points` is set. */
  spanGaps?: boolean;
  /** Formats the value in the legend. */
  format?: (value: number) => string;
}

export interface ChartMarker {
  x: number;
  label?: string;
  color?: string;
  /** Dashed (default) or solid line. */
  solid?: boolean;
}

export interface ChartAxis {
  label?: string;
  /** Fixed range, e.g. [0, 1] for accuracy. */
  range?: [number, number];
  format?: (value: number) => string;
  /** Only whole-number ticks (e.g. batches, epochs). */
  integer?: boolean;
}
