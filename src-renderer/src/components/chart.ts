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
  /**
   * Draw as steps: 'after' holds each value from its x to the next x (value i covers [i, i+1)); 'before' holds it
   * from the previous x up to its own (batch b covers (b-1, b]).
   */
  stepped?: 'before' | 'after';
}

export interface ChartMarker {
  x: number;
  label?: string;
  color?: string;
  /** Dashed (default) or solid line. */
  solid?: boolean;
  /** Line width in CSS pixels (default 1). */
  width?: number;
}

/** A shaded vertical band between two x values, drawn behind the series, with an optional label at its foot. */
export interface ChartBand {
  from: number;
  to: number;
  /** CSS fill colour (use a translucent one). */
  color: string;
  label?: string;
  labelColor?: string;
}

export interface ChartAxis {
  label?: string;
  /** Fixed range, e.g. [0, 1] for accuracy. */
  range?: [number, number];
  format?: (value: number) => string;
  /** Only whole-number ticks (e.g. batches, epochs). */
  integer?: boolean;
  /** Explicit tick positions (e.g. one per epoch); ticks outside the visible range are dropped. */
  splits?: number[];
}
