import { describe, expect, it } from "vitest";
import { chooseStep, timeRules, timestampLabel } from "../../../src/lib/chart/timeRules";
import { startOfDay, zonedParts, zonedTime } from "../../../src/lib/chart/zone";

const NY = "America/New_York";
const utc = (iso: string) => Date.parse(iso);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe("zone", () => {
  it("reads New York's wall clock, daylight saving included", () => {
    expect(zonedParts(utc("2012-01-03T14:30:00Z"), NY)).toMatchObject({ year: 2012, month: 1, day: 3, hour: 9, minute: 30, weekday: 2 });
    expect(zonedParts(utc("2012-07-03T13:30:00Z"), NY)).toMatchObject({ hour: 9, minute: 30 });
  });

  it("finds the UTC time of a wall-clock time", () => {
    expect(zonedTime(NY, 2012, 1, 3, 9, 30)).toBe(utc("2012-01-03T14:30:00Z"));
    expect(zonedTime(NY, 2012, 3, 12, 9, 30)).toBe(utc("2012-03-12T13:30:00Z"));
    expect(zonedTime(NY, 2012, 1, 32)).toBe(utc("2012-02-01T05:00:00Z"));
    // 02:30 does not exist on the morning clocks jump: an hour later.
    expect(zonedTime(NY, 2012, 3, 11, 2, 30)).toBe(utc("2012-03-11T07:30:00Z"));
  });

  it("finds the start of the day", () => {
    expect(startOfDay(utc("2012-01-03T18:08:00Z"), NY)).toBe(utc("2012-01-03T05:00:00Z"));
    expect(startOfDay(utc("2012-01-04T03:00:00Z"), NY)).toBe(utc("2012-01-03T05:00:00Z"));
  });
});

describe("chooseStep", () => {
  it("takes the finest step within the budget", () => {
    expect(chooseStep(HOUR, 12)).toMatchObject({ unit: "minute", count: 5 });
    expect(chooseStep(DAY, 10)).toMatchObject({ unit: "hour", count: 3 });
    expect(chooseStep(5 * DAY, 10)).toMatchObject({ unit: "day", count: 1 });
    expect(chooseStep(365 * DAY, 13)).toMatchObject({ unit: "month", count: 1 });
    expect(chooseStep(30 * 365 * DAY, 8)).toMatchObject({ unit: "year", count: 5 });
  });

  it("goes no finer than the bar", () => {
    expect(chooseStep(2 * DAY, 100, DAY)).toMatchObject({ unit: "day" });
  });
});

describe("timeRules", () => {
  it("marks minutes on the wall clock, within the budget", () => {
    const t0 = utc("2012-01-03T14:00:00Z");
    const rules = timeRules(t0, t0 + HOUR, 6, { tz: NY, sessions: true });
    expect(rules.length).toBeLessThanOrEqual(6);
    expect(rules.map((r) => r.label)).toEqual(["09:00", "09:15", "09:30", "09:45", "10:00"]);
    for (const r of rules) expect(r.t % (15 * MIN)).toBe(0);
  });

  it("marks hours counted from New York's midnight, the midnight by its date", () => {
    const t0 = utc("2012-01-03T17:00:00Z");
    const rules = timeRules(t0, t0 + 12 * HOUR, 5, { tz: NY, sessions: true });
    expect(rules.map((r) => r.label)).toEqual(["12:00", "15:00", "18:00", "21:00", "Jan 4"]);
    expect(rules.find((r) => r.label === "Jan 4")?.major).toBe(true);
  });

  it("marks each weekday's session open on intraday charts, skipping the weekend", () => {
    const rules = timeRules(utc("2012-03-08T00:00:00Z"), utc("2012-03-14T00:00:00Z"), 8, { tz: NY, sessions: true });
    expect(rules.map((r) => new Date(r.t).toISOString())).toEqual([
      "2012-03-08T14:30:00.000Z",
      "2012-03-09T14:30:00.000Z",
      "2012-03-12T13:30:00.000Z", // after the clocks moved
      "2012-03-13T13:30:00.000Z",
    ]);
    expect(rules[0].label).toBe("Thu 8");
    expect(rules[2].major).toBe(true);
  });

  it("marks midnights on daily charts, months and years on long ones", () => {
    const days = timeRules(utc("2012-03-08T00:00:00Z"), utc("2012-03-14T00:00:00Z"), 8, { tz: NY, sessions: false, minStepMs: DAY });
    expect(days[0]).toMatchObject({ t: utc("2012-03-08T05:00:00Z"), label: "Mar 8" });
    const months = timeRules(utc("2011-06-15T00:00:00Z"), utc("2012-06-15T00:00:00Z"), 13, { tz: NY, sessions: false });
    expect(months.map((r) => r.label)).toEqual(["Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "2012", "Feb", "Mar", "Apr", "May", "Jun"]);
    const years = timeRules(utc("1990-01-01T00:00:00Z"), utc("2020-06-01T00:00:00Z"), 8, { tz: NY, sessions: false });
    expect(years.map((r) => r.label)).toEqual(["1990", "1995", "2000", "2005", "2010", "2015", "2020"]);
  });

  it("never exceeds the budget, whatever the span", () => {
    const t0 = utc("2012-01-03T14:00:00Z");
    for (const span of [MIN * 7, HOUR * 5, DAY * 3, DAY * 45, DAY * 700, DAY * 20000]) {
      for (const max of [3, 6, 12]) {
        const rules = timeRules(t0, t0 + span, max, { tz: NY, sessions: true });
        expect(rules.length).toBeLessThanOrEqual(max);
        expect(rules.length).toBeGreaterThan(0);
        for (const r of rules) expect(r.t >= t0 && r.t <= t0 + span).toBe(true);
      }
    }
  });

  it("writes readout times in the zone", () => {
    expect(timestampLabel(utc("2012-01-03T18:08:06Z"), NY)).toBe("2012-01-03 13:08:06");
  });
});
