import { describe, expect, it } from "vitest";
import { plotOf, sessionTimeScale } from "../../../src/lib/chart/layout";
import { sessionGaps, sessionScale } from "../../../src/lib/chart/sessionScale";
import { timeRules } from "../../../src/lib/chart/timeRules";
import { zonedParts } from "../../../src/lib/chart/zone";

const NY = "America/New_York";
const MIN = 60_000;
const utc = (iso: string) => Date.parse(iso);

/** Minute bars of regular sessions (09:30–15:59 New York, 14:30–20:59 UTC in January). */
function sessions(days: string[]): number[] {
  const ts: number[] = [];
  for (const day of days) {
    const open = utc(`${day}T14:30:00Z`);
    for (let i = 0; i < 390; i++) ts.push(open + i * MIN);
  }
  return ts;
}

describe("sessionGaps", () => {
  it("finds the nights and the weekend between minute sessions, each drawn one bar wide", () => {
    const ts = sessions(["2012-01-05", "2012-01-06", "2012-01-09"]);
    const { gaps, width } = sessionGaps(ts, MIN);
    expect(width).toBe(MIN);
    expect(gaps).toEqual([
      [utc("2012-01-05T20:59:00Z"), utc("2012-01-06T14:30:00Z")],
      [utc("2012-01-06T20:59:00Z"), utc("2012-01-09T14:30:00Z")],
    ]);
  });

  it("leaves a few missing minutes alone, and downsampled spacing is the typical step", () => {
    const ts = sessions(["2012-01-05"]).filter((_, i) => i !== 100 && i !== 101);
    expect(sessionGaps(ts, MIN).gaps).toEqual([]);
    const every10 = sessions(["2012-01-05", "2012-01-06"]).filter((_, i) => i % 10 === 0);
    const { gaps, width } = sessionGaps(every10, MIN);
    expect(width).toBe(10 * MIN);
    expect(gaps).toHaveLength(1);
  });
});

describe("sessionScale", () => {
  const ts = sessions(["2012-01-05", "2012-01-06", "2012-01-09"]);
  const plot = plotOf(1000, 400, true);
  const x = sessionTimeScale(ts, MIN, plot)!;

  it("spaces every bar of a session alike, and the first bar of the next one step on", () => {
    const xs = ts.map((t) => x(t));
    const steps = xs.slice(1).map((v, i) => v - xs[i]);
    for (const step of steps) expect(step).toBeCloseTo(steps[0], 9);
    // 3 sessions of 390 bars, the two gaps one bar each, room on the right: 2% of the drawn span
    const drawn = (3 * 390 - 1) * MIN;
    expect(x.span).toBeCloseTo(drawn + drawn * 0.02, 6);
    expect(x(ts[0])).toBe(plot.left);
    expect(x(x.domain[1])).toBeCloseTo(plot.left + plot.width, 9);
  });

  it("inverts every pixel back to its time, inside sessions and across the closed gaps", () => {
    for (const t of [ts[0], ts[200], ts[389], ts[390], ts[1000], ts[ts.length - 1]]) {
      expect(x.invert(x(t))).toBeCloseTo(t, 3);
    }
    const night = utc("2012-01-06T02:00:00Z");
    expect(x(night)).toBeGreaterThan(x(ts[389]));
    expect(x(night)).toBeLessThan(x(ts[390]));
    expect(x.invert(x(night))).toBeCloseTo(night, 3);
  });

  it("extends linearly past the last bar, where the forming bar grows", () => {
    const step = x(ts[1]) - x(ts[0]);
    const last = ts[ts.length - 1];
    expect(x(last + MIN) - x(last)).toBeCloseTo(step, 9);
  });

  it("moves a time inside a gap to the next session's first bar", () => {
    expect(x.snap(utc("2012-01-07T12:00:00Z"))).toBe(utc("2012-01-09T14:30:00Z"));
    expect(x.snap(ts[5])).toBe(ts[5]);
    expect(x.snap(utc("2012-01-06T14:30:00Z"))).toBe(utc("2012-01-06T14:30:00Z"));
  });

  it("differs from a scale with other gaps over the same domain (memo key)", () => {
    const a = sessionScale([0, 100], [0, 10], [[10, 50]], 5);
    const b = sessionScale([0, 100], [0, 10], [[20, 60]], 5);
    expect(a.key).not.toBe(b.key);
    expect(a(40)).not.toBe(b(40));
  });
});

describe("time rules on a session scale", () => {
  const ts = sessions(["2012-01-05", "2012-01-06", "2012-01-09"]);
  const x = sessionTimeScale(ts, MIN, plotOf(1000, 400, true))!;
  const rules = timeRules(x.domain[0], x.domain[1], 9, { tz: NY, sessions: true, minStepMs: MIN, snap: x.snap, spanMs: x.span });

  it("puts none inside a closed gap: each session's start is a major rule", () => {
    expect(rules.length).toBeGreaterThanOrEqual(3);
    expect(rules.length).toBeLessThanOrEqual(9);
    for (const rule of rules) expect(x.snap(rule.t)).toBe(rule.t);
    const starts = [utc("2012-01-06T14:30:00Z"), utc("2012-01-09T14:30:00Z")];
    for (const start of starts) expect(rules.find((r) => r.t === start)?.major).toBe(true);
  });

  it("keeps the rules apart on the drawn axis, and rules inside each session", () => {
    const xs = rules.map((r) => x(r.t));
    const gaps = xs.slice(1).map((v, i) => v - xs[i]);
    expect(Math.min(...gaps)).toBeGreaterThan(25);
    const clock = rules.filter((r) => zonedParts(r.t, NY).minute === 0 && zonedParts(r.t, NY).hour > 9);
    expect(clock.length).toBeGreaterThanOrEqual(3);
  });

  it("labels the session starts with their day", () => {
    const monday = rules.find((r) => r.t === utc("2012-01-09T14:30:00Z"))!;
    expect(monday.label).toBe("Mon 9");
    expect(zonedParts(monday.t, NY)).toMatchObject({ hour: 9, minute: 30 });
  });
});
