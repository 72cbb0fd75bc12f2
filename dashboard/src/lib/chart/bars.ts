/** Bars as columns sorted by time, updated in place by time (never a duplicate vertex). */

export interface Bar {
  /** The bar's start, UTC milliseconds. */
  t: number;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  volume: number | null;
  vwap: number | null;
}

export const BAR_FIELDS = ["open", "high", "low", "close", "volume", "vwap"] as const;
export type BarField = (typeof BAR_FIELDS)[number];

/**
 * Where `t` is in the sorted `ts`: its index, or -(insertion point) - 1 when absent
 * (Java's binarySearch convention).
 */
export function search(ts: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = ts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ts[mid];
    if (v < t) lo = mid + 1;
    else if (v > t) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

/** The index of the time in sorted `ts` closest to `t` (-1 when empty). */
export function nearestIndex(ts: ArrayLike<number>, t: number): number {
  if (ts.length === 0) return -1;
  const i = search(ts, t);
  if (i >= 0) return i;
  const after = -i - 1;
  if (after === 0) return 0;
  if (after >= ts.length) return ts.length - 1;
  return t - ts[after - 1] <= ts[after] - t ? after - 1 : after;
}

export class BarSeries {
  t: number[] = [];
  open: (number | null)[] = [];
  high: (number | null)[] = [];
  low: (number | null)[] = [];
  close: (number | null)[] = [];
  volume: (number | null)[] = [];
  vwap: (number | null)[] = [];

  get length(): number {
    return this.t.length;
  }

  at(i: number): Bar {
    return {
      t: this.t[i],
      open: this.open[i],
      high: this.high[i],
      low: this.low[i],
      close: this.close[i],
      volume: this.volume[i],
      vwap: this.vwap[i],
    };
  }

  last(): Bar | null {
    return this.length ? this.at(this.length - 1) : null;
  }

  /** Put a bar at its time: replace the bar there, or insert it in order (usually at the end). */
  upsert(bar: Bar): "replaced" | "inserted" {
    const n = this.length;
    const i = n && bar.t > this.t[n - 1] ? -n - 1 : search(this.t, bar.t);
    if (i >= 0) {
      for (const f of BAR_FIELDS) this[f][i] = bar[f];
      return "replaced";
    }
    const at = -i - 1;
    this.t.splice(at, 0, bar.t);
    for (const f of BAR_FIELDS) this[f].splice(at, 0, bar[f]);
    return "inserted";
  }

  /** Append bars already sorted and later than every bar held (the query's answer). */
  appendSorted(bars: Iterable<Bar>): void {
    for (const bar of bars) this.upsert(bar);
  }
}

/**
 * One bar from consecutive parts (sorted by time): the first open, the extremes, the last close,
 * the summed volume and the volume-weighted vwap. Null when there are no parts.
 */
export function aggregate(t: number, parts: readonly Bar[]): Bar | null {
  if (parts.length === 0) return null;
  let open: number | null = null;
  let close: number | null = null;
  let high = -Infinity;
  let low = Infinity;
  let volume = 0;
  let pv = 0;
  let pvVolume = 0;
  for (const p of parts) {
    if (open == null && p.open != null) open = p.open;
    if (p.close != null) close = p.close;
    if (p.high != null && p.high > high) high = p.high;
    if (p.low != null && p.low < low) low = p.low;
    if (p.volume != null) {
      volume += p.volume;
      if (p.vwap != null) {
        pv += p.vwap * p.volume;
        pvVolume += p.volume;
      }
    }
  }
  return {
    t,
    open,
    high: Number.isFinite(high) ? high : null,
    low: Number.isFinite(low) ? low : null,
    close,
    volume,
    vwap: pvVolume > 0 ? pv / pvVolume : null,
  };
}

/**
 * A stored bar brought up to date by live data of the same window: the open stays the stored one,
 * the extremes cover both, the close is live. Volume takes the larger of the two: the stored
 * bar may already hold some of the live trades, and summing would count them twice.
 */
export function combine(stored: Bar, live: Bar): Bar {
  const pick = (a: number | null, b: number | null, f: (x: number, y: number) => number) =>
    a == null ? b : b == null ? a : f(a, b);
  const useLiveVolume = (live.volume ?? 0) >= (stored.volume ?? 0);
  return {
    t: stored.t,
    open: stored.open ?? live.open,
    high: pick(stored.high, live.high, Math.max),
    low: pick(stored.low, live.low, Math.min),
    close: live.close ?? stored.close,
    volume: pick(stored.volume, live.volume, Math.max),
    vwap: useLiveVolume ? (live.vwap ?? stored.vwap) : (stored.vwap ?? live.vwap),
  };
}
