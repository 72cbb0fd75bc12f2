/**
 * An intraday time scale that closes the gaps between sessions: nights, weekends and holidays,
 * where no bar exists, take the width of one ordinary step between bars instead of their clock
 * length, so a chart of several days is not mostly a straight line across closed hours. Inside a
 * session it is linear in time (downsampled bars keep their true spacing).
 */

import type { Scale } from "./scale";

/** An interval between bars longer than this many typical intervals is a gap to close. */
export const GAP_FACTOR = 3;

/**
 * The closed gaps of a series: [end of the bar before, start of the bar after] for each interval
 * longer than `GAP_FACTOR` times the median interval (and than `GAP_FACTOR` bars), and the width
 * each takes instead (the median interval).
 */
export function sessionGaps(ts: readonly number[], barMs: number): { gaps: [number, number][]; width: number } {
  if (ts.length < 3) return { gaps: [], width: barMs };
  const steps = new Float64Array(ts.length - 1);
  for (let i = 1; i < ts.length; i++) steps[i - 1] = ts[i] - ts[i - 1];
  const sorted = Float64Array.from(steps).sort();
  const width = Math.max(barMs, sorted[Math.floor((sorted.length - 1) / 2)]);
  const threshold = GAP_FACTOR * width;
  const gaps: [number, number][] = [];
  steps.forEach((step, i) => step > threshold && gaps.push([ts[i], ts[i + 1]]));
  return { gaps, width };
}

/** The index of the last element of `xs` (sorted) at or before `v`; -1 when none. */
function lastAtOrBefore(xs: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * The scale from times (UTC ms) to pixels over `domain`, with `gaps` (sorted, inside the domain)
 * each drawn `width` ms wide. Its `domain` stays in times; `snap` moves a time strictly inside a
 * closed gap to the gap's end (the next session's first bar: where a rule for that time belongs);
 * `span` is the drawn length in ms.
 */
export interface SessionScale extends Scale {
  readonly gaps: readonly [number, number][];
  snap(t: number): number;
  readonly span: number;
}

export function sessionScale(
  domain: readonly [number, number],
  range: readonly [number, number],
  gaps: readonly [number, number][],
  width: number,
): SessionScale {
  // Breakpoints of the piecewise-linear map from time to "drawn time" (ms with gaps closed).
  const times = [domain[0]];
  const drawn = [0];
  let cut = 0; // how much clock time the gaps before this point removed
  for (const [a, b] of gaps) {
    if (a < domain[0] || b > domain[1]) continue;
    times.push(a, b);
    drawn.push(a - domain[0] - cut, a - domain[0] - cut + width);
    cut += b - a - width;
  }
  times.push(domain[1]);
  drawn.push(domain[1] - domain[0] - cut);
  const span = drawn[drawn.length - 1];
  const k = span === 0 ? 0 : (range[1] - range[0]) / span;
  const mid = (range[0] + range[1]) / 2;

  const toDrawn = (t: number): number => {
    const i = Math.min(Math.max(lastAtOrBefore(times, t), 0), times.length - 2);
    const t0 = times[i];
    const t1 = times[i + 1];
    const d0 = drawn[i];
    const d1 = drawn[i + 1];
    // Outside the domain, and inside a session, drawn time runs with the clock.
    if (t < t0 || t > t1 || d1 - d0 === t1 - t0) return d0 + (t - t0);
    return d0 + ((t - t0) / (t1 - t0)) * (d1 - d0);
  };
  const fromDrawn = (d: number): number => {
    const i = Math.min(Math.max(lastAtOrBefore(drawn, d), 0), drawn.length - 2);
    const t0 = times[i];
    const t1 = times[i + 1];
    const d0 = drawn[i];
    const d1 = drawn[i + 1];
    if (d < d0 || d > d1 || d1 - d0 === t1 - t0) return t0 + (d - d0);
    return t0 + ((d - d0) / (d1 - d0)) * (t1 - t0);
  };

  const kept = gaps.filter(([a, b]) => a >= domain[0] && b <= domain[1]);
  const starts = kept.map(([a]) => a);
  const scale = ((t: number) => (k === 0 ? mid : range[0] + toDrawn(t) * k)) as SessionScale;
  Object.assign(scale, {
    invert: (pixel: number) => (k === 0 ? domain[0] : fromDrawn((pixel - range[0]) / k)),
    domain,
    range,
    log: false,
    key: kept.map(([a, b]) => `${a}-${b}`).join(","),
    gaps: kept,
    snap: (t: number) => {
      const i = lastAtOrBefore(starts, t);
      return i >= 0 && t > kept[i][0] && t < kept[i][1] ? kept[i][1] : t;
    },
    span,
  });
  return scale;
}
