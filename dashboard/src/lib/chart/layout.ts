/** A panel's geometry and its scales, from its size and the data it shows. */

import { canUseLog, linearScale, logScale, paddedDomain, type Scale } from "./scale";
import { sessionGaps, sessionScale, type SessionScale } from "./sessionScale";
import { linearTicks, logTicks, niceDomain } from "./ticks";

/** Room on the right for value labels, and under the price panel for time labels. */
export const VALUE_AXIS_WIDTH = 68;
export const TIME_AXIS_HEIGHT = 18;
const TOP_GAP = 9;

/** The plotting area inside a panel's SVG (its own coordinates: px from the SVG's top left). */
export interface Plot {
  left: number;
  top: number;
  width: number;
  height: number;
}

export function plotOf(width: number, height: number, timeAxis: boolean): Plot {
  return {
    left: 0,
    top: TOP_GAP,
    width: Math.max(1, width - VALUE_AXIS_WIDTH),
    height: Math.max(1, height - TOP_GAP - (timeAxis ? TIME_AXIS_HEIGHT : 4)),
  };
}

/**
 * The time span to draw: the first bar to the last, with room on the right (a bar's width, at
 * least 2% of the span) for the forming bar to grow into. Null without bars.
 */
export function timeDomain(ts: readonly number[], barMs: number): [number, number] | null {
  if (ts.length === 0) return null;
  const first = ts[0];
  const last = ts[ts.length - 1];
  if (first === last) return [first - barMs, last + barMs];
  return [first, last + Math.max(barMs, (last - first) * 0.02)];
}

export function timeScale(domain: [number, number], plot: Plot): Scale {
  return linearScale(domain, [plot.left, plot.left + plot.width]);
}

/**
 * An intraday chart's x scale: the bars' span with the gaps between sessions closed (see
 * sessionScale), and room on the right as `timeDomain` leaves, out of the drawn span. Null without
 * two distinct bar times.
 */
export function sessionTimeScale(ts: readonly number[], barMs: number, plot: Plot): SessionScale | null {
  if (ts.length < 2 || ts[0] === ts[ts.length - 1]) return null;
  const { gaps, width } = sessionGaps(ts, barMs);
  const first = ts[0];
  const last = ts[ts.length - 1];
  const closed = gaps.reduce((sum, [a, b]) => sum + (b - a - width), 0);
  const room = Math.max(barMs, (last - first - closed) * 0.02);
  return sessionScale([first, last + room], [plot.left, plot.left + plot.width], gaps, width);
}

/** About one value rule per `spacing` px of the plot's height. */
export function ruleCount(plot: Plot, spacing = 34): number {
  return Math.max(2, Math.floor(plot.height / spacing));
}

/**
 * The y scale of a value range: padded, then widened to round values (rules frame the data), log
 * when asked and possible.
 */
export function valueScale(range: [number, number], plot: Plot, log = false, padding = 0.03, spacing = 34): Scale {
  const useLog = log && canUseLog(range);
  const [lo, hi] = paddedDomain(range[0], range[1], padding, useLog);
  const domain = niceDomain(lo, hi, ruleCount(plot, spacing), useLog);
  const pixels: [number, number] = [plot.top + plot.height, plot.top];
  return useLog ? logScale(domain, pixels) : linearScale(domain, pixels);
}

/** The value rules of a y scale made by `valueScale` with the same spacing. */
export function valueTicks(y: Scale, plot: Plot, spacing = 34): { step: number; values: number[] } {
  const max = ruleCount(plot, spacing);
  const [lo, hi] = y.domain;
  return y.log ? logTicks(lo, hi, max) : linearTicks(lo, hi, max);
}

/** Where the pointer is: which panel, and where in its SVG. */
export interface Pointer {
  panel: string;
  px: number;
  py: number;
}
