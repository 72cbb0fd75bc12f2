/**
 * Time rules: vertical guides at boundaries people read (the minute, the hour, the session's
 * open, the day, the week, the month, the year), as coarse as needed to keep at most `maxRules`
 * of them across the span, in the market's time zone.
 */

import { zonedParts, zonedTime, type ZonedParts } from "./zone";

/** "day" is each weekday: its midnight, or its session's open on an intraday chart. */
export type RuleUnit = "minute" | "hour" | "day" | "week" | "month" | "year";

export interface RuleStep {
  unit: RuleUnit;
  count: number;
  /** Typical length, to choose a step for a span (a month is about 30.4 days). */
  approxMs: number;
}

export interface TimeRule {
  /** UTC milliseconds */
  t: number;
  label: string;
  /** At a boundary of a coarser unit (a new day among hours, a new year among months). */
  major: boolean;
}

export interface TimeRuleOptions {
  tz: string;
  /** Intraday bars: mark each session's open (09:30 by default) instead of midnight. */
  sessions: boolean;
  /** No rule finer than this (the bar width: no hour rules on a daily chart). */
  minStepMs?: number;
  sessionOpen?: { hour: number; minute: number };
  /**
   * On a scale with the gaps between sessions closed (see sessionScale): where a rule for a time
   * is drawn (a time inside a gap moves to the next session's first bar) and the drawn length of
   * the span, which sets how many rules fit.
   */
  snap?: (t: number) => number;
  spanMs?: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export const STEPS: readonly RuleStep[] = [
  ...[1, 2, 5, 10, 15, 30].map((count) => ({ unit: "minute" as const, count, approxMs: count * MIN })),
  ...[1, 2, 3, 6].map((count) => ({ unit: "hour" as const, count, approxMs: count * HOUR })),
  { unit: "day", count: 1, approxMs: DAY },
  { unit: "week", count: 1, approxMs: 7 * DAY },
  ...[1, 3, 6].map((count) => ({ unit: "month" as const, count, approxMs: count * 30.4 * DAY })),
  ...[1, 2, 5, 10, 20, 50, 100].map((count) => ({ unit: "year" as const, count, approxMs: count * 365.25 * DAY })),
];

/** The finest step that keeps at most `maxRules` rules over `spanMs` (at least `minStepMs`). */
export function chooseStep(spanMs: number, maxRules: number, minStepMs = 0): RuleStep {
  for (const step of STEPS) {
    if (step.approxMs < minStepMs) continue;
    if (spanMs / step.approxMs <= maxRules) return step;
  }
  return STEPS[STEPS.length - 1];
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const pad2 = (n: number) => String(n).padStart(2, "0");

/** "Mar 14" */
export function dayLabel(p: ZonedParts): string {
  return `${MONTHS[p.month - 1]} ${p.day}`;
}

/** "13:05" */
export function clockLabel(p: ZonedParts): string {
  return `${pad2(p.hour)}:${pad2(p.minute)}`;
}

/** A full timestamp for readouts: "2012-01-03 13:05" (with seconds when not :00). */
export function timestampLabel(t: number, tz: string): string {
  const p = zonedParts(t, tz);
  const s = p.second ? `:${pad2(p.second)}` : "";
  return `${p.year}-${pad2(p.month)}-${pad2(p.day)} ${clockLabel(p)}${s}`;
}

/** "Tue 3": a session's day on an intraday chart. */
const sessionLabel = (p: ZonedParts) => `${WEEKDAY_NAMES[p.weekday]} ${p.day}`;

const isWeekday = (p: ZonedParts) => p.weekday >= 1 && p.weekday <= 5;

/** Rules every `count` minutes or hours, on the wall clock (hours counted from midnight). */
function clockRules(t0: number, t1: number, step: RuleStep, tz: string): TimeRule[] {
  const unitMs = step.unit === "minute" ? MIN : HOUR;
  const rules: TimeRule[] = [];
  // UTC and New York differ by whole hours, so UTC minute/hour boundaries are wall-clock ones.
  for (let t = Math.ceil(t0 / unitMs) * unitMs; t <= t1; t += unitMs) {
    const p = zonedParts(t, tz);
    const n = step.unit === "minute" ? p.minute : p.hour;
    if (step.unit === "minute" ? n % step.count !== 0 : n % step.count !== 0 || p.minute !== 0) continue;
    const midnight = p.hour === 0 && p.minute === 0;
    rules.push({ t, label: midnight ? dayLabel(p) : clockLabel(p), major: midnight || (step.unit === "minute" && p.minute === 0) });
  }
  return rules;
}

/** Each weekday's midnight, or its session open; Mondays major. */
function dayRules(t0: number, t1: number, tz: string, open: { hour: number; minute: number } | null): TimeRule[] {
  const rules: TimeRule[] = [];
  const first = zonedParts(t0, tz);
  for (let d = 0; ; d++) {
    const t = zonedTime(tz, first.year, first.month, first.day + d, open?.hour ?? 0, open?.minute ?? 0);
    if (t > t1) break;
    if (t < t0) continue;
    const p = zonedParts(t, tz);
    if (!isWeekday(p)) continue;
    const label = open ? sessionLabel(p) : dayLabel(p);
    rules.push({ t, label, major: p.weekday === 1 });
  }
  return rules;
}

function weekRules(t0: number, t1: number, tz: string): TimeRule[] {
  return dayRules(t0, t1, tz, null)
    .filter((r) => zonedParts(r.t, tz).weekday === 1)
    .map((r) => {
      const p = zonedParts(r.t, tz);
      return { t: r.t, label: dayLabel(p), major: p.day <= 7 };
    });
}

function calendarRules(t0: number, t1: number, step: RuleStep, tz: string): TimeRule[] {
  const rules: TimeRule[] = [];
  const first = zonedParts(t0, tz);
  if (step.unit === "month") {
    for (let m = 0; ; m++) {
      const t = zonedTime(tz, first.year, first.month + m, 1);
      if (t > t1) break;
      const p = zonedParts(t, tz);
      if (t < t0 || (p.month - 1) % step.count !== 0) continue;
      const january = p.month === 1;
      rules.push({ t, label: january ? String(p.year) : MONTHS[p.month - 1], major: january });
    }
  } else {
    for (let y = first.year; ; y++) {
      const t = zonedTime(tz, y, 1, 1);
      if (t > t1) break;
      if (t < t0 || y % step.count !== 0) continue;
      rules.push({ t, label: String(y), major: y % (step.count * 10) === 0 });
    }
  }
  return rules;
}

/** The rules of one step over [t0, t1]. */
export function rulesOf(t0: number, t1: number, step: RuleStep, options: TimeRuleOptions): TimeRule[] {
  const { tz } = options;
  switch (step.unit) {
    case "minute":
    case "hour":
      return clockRules(t0, t1, step, tz);
    case "day":
      return dayRules(t0, t1, tz, options.sessions ? (options.sessionOpen ?? { hour: 9, minute: 30 }) : null);
    case "week":
      return weekRules(t0, t1, tz);
    default:
      return calendarRules(t0, t1, step, tz);
  }
}

/**
 * Rules moved by `snap` (into the next session): where several land on one time, the coarsest
 * (a major one, a day's label) stays; a plain rule closer than a quarter of a step after a moved
 * one goes, so labels do not overlap (rules are about 110 px a step apart).
 */
function snapRules(rules: TimeRule[], snap: (t: number) => number, stepMs: number, tz: string): TimeRule[] {
  const byTime = new Map<number, TimeRule & { moved: boolean }>();
  for (const rule of rules) {
    const t = snap(rule.t);
    const moved = t !== rule.t;
    const there = byTime.get(t);
    // the first major rule wins: midnight among hours, the week's Monday among days
    if (!there || (rule.major && !there.major)) byTime.set(t, { ...rule, t, moved: moved || !!there?.moved });
    else if (moved) there.moved = true;
  }
  const sorted = [...byTime.values()].sort((a, b) => a.t - b.t);
  const kept: TimeRule[] = [];
  let lastMoved = -Infinity;
  for (const { moved, ...rule } of sorted) {
    if (moved) {
      lastMoved = rule.t;
      // a session's start: labelled with its own day, whatever time moved there
      kept.push({ ...rule, label: sessionLabel(zonedParts(rule.t, tz)), major: true });
    } else if (rule.major || rule.t - lastMoved >= stepMs / 4) kept.push(rule);
  }
  return kept;
}

/**
 * The time rules over [t0, t1]: the finest step with at most `maxRules` rules. Intraday charts
 * mark each session's open rather than midnight (the data of a stock begins there each day).
 */
export function timeRules(t0: number, t1: number, maxRules: number, options: TimeRuleOptions): TimeRule[] {
  if (!(t1 > t0)) return [];
  const { snap } = options;
  const ruled = (step: RuleStep) => {
    const rules = rulesOf(t0, t1, step, options);
    return snap ? snapRules(rules, snap, step.approxMs, options.tz) : rules;
  };
  let step = chooseStep(options.spanMs ?? t1 - t0, maxRules, options.minStepMs ?? 0);
  let rules = ruled(step);
  // Weekends and skipped hours make the typical length a guess: coarsen until it fits.
  while (rules.length > maxRules && step !== STEPS[STEPS.length - 1]) {
    step = STEPS[STEPS.indexOf(step) + 1];
    rules = ruled(step);
  }
  return rules;
}
