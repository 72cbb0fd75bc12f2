/** From the GraphQL answers' shapes to the chart's: times in UTC ms, bars, value columns. */

import type { Bar } from "../chart/bars";

/** UTC nanoseconds (a BigInt as a decimal string) to ms, rounded down. */
export function nsToMs(ns: string | number): number {
  if (typeof ns === "number") return Math.floor(ns / 1e6);
  // Faster than BigInt over a year of bars; exact for every whole millisecond.
  return ns.length > 6 ? Math.floor(Number(ns.slice(0, -6))) : 0;
}

/** `Series.data` as the dashboard asks for it. */
export interface SeriesColumns {
  tNs: string[];
  open: (number | null)[];
  high: (number | null)[];
  low: (number | null)[];
  close: (number | null)[];
  volume: (number | null)[];
  vwap: (number | null)[];
}

export function seriesBars(data: SeriesColumns): Bar[] {
  return data.tNs.map((ns, i) => ({
    t: nsToMs(ns),
    open: data.open[i],
    high: data.high[i],
    low: data.low[i],
    close: data.close[i],
    volume: data.volume[i],
    vwap: data.vwap[i],
  }));
}

/** A ripples bar's `values` ({open, high, low, close, volume, vwap, count}). */
export type BarValues = Partial<Record<"open" | "high" | "low" | "close" | "volume" | "vwap" | "count", number | null>>;

/** A live ripples bar: its key is the window's end, the chart's bars are keyed by their start. */
export function rippleBar(endNs: string, widthMs: number, values: BarValues): Bar {
  return {
    t: nsToMs(endNs) - widthMs,
    open: values.open ?? null,
    high: values.high ?? null,
    low: values.low ?? null,
    close: values.close ?? null,
    volume: values.volume ?? null,
    vwap: values.vwap ?? null,
  };
}

/** A number from JSON (null for anything else). */
export function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}
