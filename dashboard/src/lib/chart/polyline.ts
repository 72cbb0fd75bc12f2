/**
 * SVG geometry from columns: polyline `points`, and paths of vertical strokes (volume, MACD
 * histogram, OHLC bars). Coordinates are rounded to 1/100 px: exact enough to map a vertex back
 * to its value, short enough to keep the attribute small.
 */

import type { Scale } from "./scale";

export type Project = (value: number) => number;

export const round2 = (v: number): number => Math.round(v * 100) / 100;

const isValue = (v: number | null | undefined): v is number => v != null && Number.isFinite(v);

/**
 * The vertices of a line through (xs[i], ys[i]), split where a y is missing (an indicator warming
 * up, a gap): one `points` string per unbroken run (a single point is a run too).
 */
export function polylineRuns(
  xs: ArrayLike<number>,
  ys: ArrayLike<number | null | undefined>,
  x: Project,
  y: Project,
): string[] {
  const runs: string[] = [];
  let run: string[] = [];
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const v = ys[i];
    if (!isValue(v)) {
      if (run.length) runs.push(run.join(" "));
      run = [];
      continue;
    }
    run.push(`${round2(x(xs[i]))},${round2(y(v))}`);
  }
  if (run.length) runs.push(run.join(" "));
  return runs;
}

/** One `points` string for a line with every y present (vertices with a missing y are left out). */
export function polylinePoints(
  xs: ArrayLike<number>,
  ys: ArrayLike<number | null | undefined>,
  x: Project,
  y: Project,
): string {
  return polylineRuns(xs, ys, x, y).join(" ");
}

/** Parse a `points` attribute back into vertices (for tests and readers of the DOM). */
export function parsePoints(points: string): [number, number][] {
  return points
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((pair) => {
      const [a, b] = pair.split(",");
      return [Number(a), Number(b)];
    });
}

/** Vertical strokes from a baseline to each value (volume bars, a histogram), as one path. */
export function stemPath(
  xs: ArrayLike<number>,
  ys: ArrayLike<number | null | undefined>,
  x: Project,
  y: Project,
  base: number,
): string {
  const y0 = round2(y(base));
  const out: string[] = [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const v = ys[i];
    if (!isValue(v)) continue;
    out.push(`M${round2(x(xs[i]))} ${y0}V${round2(y(v))}`);
  }
  return out.join("");
}

export interface OhlcColumns {
  t: ArrayLike<number>;
  open: ArrayLike<number | null>;
  high: ArrayLike<number | null>;
  low: ArrayLike<number | null>;
  close: ArrayLike<number | null>;
}

/**
 * OHLC bars as two paths (rising, falling): a high–low stroke with the open ticked to the left and
 * the close to the right, `tick` px long.
 */
export function ohlcPaths(bars: OhlcColumns, x: Project, y: Project, tick: number): { up: string; down: string } {
  const up: string[] = [];
  const down: string[] = [];
  for (let i = 0; i < bars.t.length; i++) {
    const [o, h, l, c] = [bars.open[i], bars.high[i], bars.low[i], bars.close[i]];
    if (!isValue(o) || !isValue(h) || !isValue(l) || !isValue(c)) continue;
    const px = round2(x(bars.t[i]));
    const segment =
      `M${px} ${round2(y(h))}V${round2(y(l))}` +
      `M${round2(px - tick)} ${round2(y(o))}H${px}` +
      `M${px} ${round2(y(c))}H${round2(px + tick)}`;
    (c >= o ? up : down).push(segment);
  }
  return { up: up.join(""), down: down.join("") };
}

type Format = (px: number, py: number, y: Project) => string;

const vertex: Format = (px, py) => `${round2(px)},${round2(py)}`;
const stem = (base: number): Format => (px, py, y) => `M${round2(px)} ${round2(y(base))}V${round2(py)}`;

/**
 * The vertices of one line, kept between redraws: a vertex whose time, value and scales did not
 * change keeps its text. A live chart redraws many times a second while only its forming bar
 * moves, so this saves nearly all the formatting. Output is the same as the plain functions'.
 */
export class VertexCache {
  private key = "";
  private xs: number[] = [];
  private ys: (number | null | undefined)[] = [];
  private cells: (string | null)[] = [];

  private constructor(private readonly format: Format) {}

  static polyline(): VertexCache {
    return new VertexCache(vertex);
  }

  static stems(base: number): VertexCache {
    return new VertexCache(stem(base));
  }

  private update(xs: ArrayLike<number>, ys: ArrayLike<number | null | undefined>, x: Scale, y: Scale): (string | null)[] {
    const key = `${x.domain},${x.range},${x.log};${y.domain},${y.range},${y.log}`;
    const keep = key === this.key;
    this.key = key;
    const n = Math.min(xs.length, ys.length);
    const cells: (string | null)[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const t = xs[i];
      const v = ys[i];
      if (keep && i < this.cells.length && this.xs[i] === t && this.ys[i] === v) {
        cells[i] = this.cells[i];
      } else {
        cells[i] = isValue(v) ? this.format(x(t), y(v), y) : null;
      }
    }
    this.xs = Array.from(xs);
    this.ys = Array.from(ys);
    this.cells = cells;
    return cells;
  }

  /** As `polylineRuns`. */
  runs(xs: ArrayLike<number>, ys: ArrayLike<number | null | undefined>, x: Scale, y: Scale): string[] {
    const runs: string[] = [];
    let run: string[] = [];
    for (const cell of this.update(xs, ys, x, y)) {
      if (cell == null) {
        if (run.length) runs.push(run.join(" "));
        run = [];
      } else run.push(cell);
    }
    if (run.length) runs.push(run.join(" "));
    return runs;
  }

  /** As `polylinePoints` (one string). */
  points(xs: ArrayLike<number>, ys: ArrayLike<number | null | undefined>, x: Scale, y: Scale): string {
    return this.runs(xs, ys, x, y).join(" ");
  }

  /** As `stemPath` (a cache made by `stems`). */
  path(xs: ArrayLike<number>, ys: ArrayLike<number | null | undefined>, x: Scale, y: Scale): string {
    return this.update(xs, ys, x, y).filter((c) => c != null).join("");
  }
}
