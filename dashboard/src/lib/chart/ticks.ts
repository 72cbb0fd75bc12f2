/** Value rules: round steps of 1, 2 or 5 × 10^k and their labels. */

const MANTISSAS = [1, 2, 5] as const;

/** The smallest 1-2-5 step that cuts `span` into at most `maxTicks` parts (at least 1 part). */
export function niceStep(span: number, maxTicks: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, maxTicks);
  let power = Math.pow(10, Math.floor(Math.log10(raw)));
  for (;;) {
    for (const m of MANTISSAS) {
      const step = m * power;
      // A hair of tolerance: 0.1 * 3 is 0.30000000000000004, which must still count as 0.3.
      if (step >= raw * (1 - 1e-9)) return step;
    }
    power *= 10;
  }
}

/** Decimals needed to write multiples of a 1-2-5 step exactly (0.05 -> 2, 20 -> 0). */
export function stepDecimals(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/** The multiples of `step` in [lo, hi], free of binary noise (0.3, not 0.30000000000000004). */
export function multiples(lo: number, hi: number, step: number): number[] {
  const decimals = stepDecimals(step);
  const out: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  for (let i = first; i <= last; i++) out.push(Number((i * step).toFixed(decimals)));
  return out;
}

/** Linear ticks: the multiples of the nice step for at most `maxTicks` parts of [lo, hi]. */
export function linearTicks(lo: number, hi: number, maxTicks: number): { step: number; values: number[] } {
  const step = niceStep(hi - lo, maxTicks);
  return { step, values: multiples(lo, hi, step) };
}

/**
 * Ticks of a log scale. Within a decade or so the linear ticks read best (prices rarely span
 * more); across decades, 1, 2 and 5 × 10^k, then only the powers of ten, then every n-th power,
 * whichever first fits in `maxTicks`.
 */
export function logTicks(lo: number, hi: number, maxTicks: number): { step: number; values: number[] } {
  if (!(lo > 0) || hi / lo < 10) return linearTicks(lo, hi, maxTicks);
  const k0 = Math.floor(Math.log10(lo));
  const k1 = Math.ceil(Math.log10(hi));
  const inRange = (v: number) => v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12);
  for (const mantissas of [[1, 2, 5], [1]]) {
    const values: number[] = [];
    for (let k = k0; k <= k1; k++) {
      for (const m of mantissas) {
        const v = Number((m * Math.pow(10, k)).toPrecision(12));
        if (inRange(v)) values.push(v);
      }
    }
    if (values.length <= maxTicks) return { step: Math.pow(10, k0), values };
  }
  const every = Math.ceil((k1 - k0 + 1) / Math.max(1, maxTicks));
  const values: number[] = [];
  for (let k = Math.ceil(k0 / every) * every; k <= k1; k += every) {
    const v = Number(Math.pow(10, k).toPrecision(12));
    if (inRange(v)) values.push(v);
  }
  return { step: Math.pow(10, k0), values };
}

const tickFormats = new Map<number, Intl.NumberFormat>();

/** A tick's label: as many decimals as its step needs, thousands grouped. */
export function formatTick(value: number, step: number): string {
  const decimals = Math.min(8, stepDecimals(step));
  let format = tickFormats.get(decimals);
  if (!format) {
    format = new Intl.NumberFormat("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    tickFormats.set(decimals, format);
  }
  return format.format(value);
}

/** A value for a readout: about `digits` significant digits, without exponent for prices. */
export function formatValue(value: number | null | undefined, digits = 6): string {
  if (value == null || !Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  if (abs >= 1e9) return (value / 1e9).toFixed(2) + "B";
  if (abs >= 1e6) return (value / 1e6).toFixed(2) + "M";
  if (abs >= 1e5) return value.toFixed(0);
  if (abs === 0) return "0";
  const decimals = Math.max(0, Math.min(8, digits - 1 - Math.floor(Math.log10(abs))));
  return value.toFixed(decimals);
}

/**
 * A domain widened to round values at both ends (the first and last rules then frame the data,
 * so the rules' labels always cover its range). Linear: to multiples of the nice step for
 * `maxTicks`, repeated until the step no longer changes. Log across a decade or more: to powers
 * of ten. A log domain is never pushed to zero or below.
 */
export function niceDomain(lo: number, hi: number, maxTicks: number, log = false): [number, number] {
  if (!(hi > lo)) return [lo, hi];
  if (log && lo > 0 && hi / lo >= 10) {
    return [Math.pow(10, Math.floor(Math.log10(lo) + 1e-12)), Math.pow(10, Math.ceil(Math.log10(hi) - 1e-12))];
  }
  let [a, b] = [lo, hi];
  for (let k = 0; k < 10; k++) {
    const step = niceStep(b - a, maxTicks);
    const decimals = stepDecimals(step);
    let na = Number((Math.floor(a / step + 1e-9) * step).toFixed(decimals));
    const nb = Number((Math.ceil(b / step - 1e-9) * step).toFixed(decimals));
    if (log && na <= 0) na = a;
    if (na === a && nb === b) break;
    [a, b] = [na, nb];
  }
  return [a, b];
}
