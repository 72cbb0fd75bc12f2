/** The chart's timeframes: how long a bar is and which window a time falls in. */

import { startOfDay } from "./zone";

export type TimeframeName = "1Min" | "1Hour" | "1Day";
/** The GraphQL enum BarTimeframe. */
export type BarTimeframe = "MINUTE_1" | "HOUR_1" | "DAY_1";

export interface Timeframe {
  name: TimeframeName;
  graphql: BarTimeframe;
  /** A bar's nominal length in ms (a day bar may be 23 or 25 hours across DST). */
  ms: number;
  intraday: boolean;
  /** How much history a chart opens with when no start is given. */
  defaultSpanMs: number;
  /** The start of the bar window that holds `t` (UTC ms). */
  bucket(t: number): number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const floorTo = (unit: number) => (t: number) => Math.floor(t / unit) * unit;

const ALIASES: Record<string, TimeframeName> = {
  "1min": "1Min",
  minute_1: "1Min",
  "1m": "1Min",
  "1hour": "1Hour",
  hour_1: "1Hour",
  "1h": "1Hour",
  "1day": "1Day",
  day_1: "1Day",
  "1d": "1Day",
};

export const TIMEFRAME_NAMES: readonly TimeframeName[] = ["1Min", "1Hour", "1Day"];

/** A timeframe by name ("1Min", "MINUTE_1", "1m", any case); null when unknown. */
export function parseTimeframe(name: string): TimeframeName | null {
  return ALIASES[name.trim().toLowerCase()] ?? null;
}

/**
 * The timeframe `name`. Daily windows start at midnight in `tz` (where the gathered daily bars
 * start: Alpaca stamps them at New York midnight) or, with `utcDays`, at UTC midnight.
 */
export function timeframe(name: TimeframeName, tz: string, utcDays = false): Timeframe {
  switch (name) {
    case "1Min":
      return { name, graphql: "MINUTE_1", ms: MIN, intraday: true, defaultSpanMs: DAY, bucket: floorTo(MIN) };
    case "1Hour":
      return { name, graphql: "HOUR_1", ms: HOUR, intraday: true, defaultSpanMs: 30 * DAY, bucket: floorTo(HOUR) };
    case "1Day":
      return {
        name,
        graphql: "DAY_1",
        ms: DAY,
        intraday: false,
        defaultSpanMs: 2 * 365 * DAY,
        bucket: utcDays ? floorTo(DAY) : (t) => startOfDay(t, tz),
      };
  }
}

/** Whether stored daily bars start at UTC midnight rather than midnight in `tz`. */
export function storedDaysAreUtc(sampleStart: number, tz: string): boolean {
  return sampleStart % DAY === 0 && startOfDay(sampleStart, tz) !== sampleStart;
}
