/**
 * Scales: a value's pixel and back. Linear or logarithmic, from a domain (data units) to a
 * range (pixels; a y range runs bottom to top, so it is given as [bottom, top]).
 */

export interface Scale {
  /** The pixel of a value. */
  (value: number): number;
  /** The value at a pixel. */
  invert(pixel: number): number;
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
  readonly log: boolean;
  /** What else than domain and range sets the mapping (a session scale's closed gaps). */
  readonly key?: string;
}

function makeScale(
  domain: readonly [number, number],
  range: readonly [number, number],
  log: boolean,
): Scale {
  const forward = log ? Math.log : (v: number) => v;
  const backward = log ? Math.exp : (v: number) => v;
  const d0 = forward(domain[0]);
  const d1 = forward(domain[1]);
  // A zero-width domain maps everything to the middle rather than dividing by zero.
  const k = d1 === d0 ? 0 : (range[1] - range[0]) / (d1 - d0);
  const mid = (range[0] + range[1]) / 2;
  const scale = ((value: number) =>
    k === 0 ? mid : range[0] + (forward(value) - d0) * k) as Scale;
  Object.assign(scale, {
    invert: (pixel: number) => (k === 0 ? domain[0] : backward(d0 + (pixel - range[0]) / k)),
    domain,
    range,
    log,
  });
  return scale;
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  return makeScale(domain, range, false);
}

/** A logarithmic scale; its domain must be positive (see `canUseLog`). */
export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  if (!(domain[0] > 0 && domain[1] > 0)) throw new RangeError(`log scale of a non-positive domain ${domain}`);
  return makeScale(domain, range, true);
}

export function canUseLog(domain: readonly [number, number]): boolean {
  return domain[0] > 0 && domain[1] > 0;
}

/**
 * The smallest and largest finite values of several columns (nulls and NaN skipped), or null when
 * there are none.
 */
export function extent(columns: readonly ArrayLike<number | null | undefined>[]): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const column of columns) {
    for (let i = 0; i < column.length; i++) {
      const v = column[i];
      if (v == null || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * A data range widened by `padding` (a fraction of its span) on each side, so lines do not touch
 * the panel's edges. A single value gets ±1% of itself (±1 at zero). With `log`, the padding is
 * taken in log space, and the result stays positive.
 */
export function paddedDomain(
  lo: number,
  hi: number,
  padding = 0.06,
  log = false,
): [number, number] {
  if (log && lo > 0) {
    const [a, b] = paddedDomain(Math.log(lo), Math.log(hi), padding, false);
    return [Math.exp(a), Math.exp(b)];
  }
  if (lo === hi) {
    const half = lo === 0 ? 1 : Math.abs(lo) * 0.01;
    return [lo - half, hi + half];
  }
  const pad = (hi - lo) * padding;
  return [lo - pad, hi + pad];
}

/** Whether two scales map every value to the same pixel. */
export function sameScale(a: Scale | null | undefined, b: Scale): boolean {
  return !!a && a.log === b.log && a.key === b.key && a.domain[0] === b.domain[0] && a.domain[1] === b.domain[1] && a.range[0] === b.range[0] && a.range[1] === b.range[1];
}

/**
 * A function that returns its previous scale while a new one would map the same: derived values
 * that depend on the scale (rules, labels, vertices) are then left alone.
 */
export function scaleMemo(): (next: Scale) => Scale {
  let last: Scale | null = null;
  return (next) => (sameScale(last, next) ? last! : (last = next));
}
