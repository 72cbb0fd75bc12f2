import { describe, expect, it } from "vitest";
import type { Bar } from "../../../src/lib/chart/bars";
import { LiveBars } from "../../../src/lib/chart/forming";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const T0 = Date.parse("2012-01-03T18:00:00Z");
const bar = (t: number, close: number, volume = 1): Bar => ({ t, open: close, high: close, low: close, close, volume, vwap: close });
const minuteBuckets = (t: number) => Math.floor(t / M) * M;
const hourBuckets = (t: number) => Math.floor(t / H) * H;

describe("LiveBars on a 1-minute chart", () => {
  it("moves the forming bar with each second and closes it with the minute's bar", () => {
    const live = new LiveBars(minuteBuckets);
    expect(live.addSecond(bar(T0 + 5 * S, 10))).toEqual([T0]);
    live.addSecond(bar(T0 + 6 * S, 12));
    live.addSecond(bar(T0 + 7 * S, 11));
    expect(live.bar(T0)).toMatchObject({ t: T0, open: 10, high: 12, low: 10, close: 11, volume: 3 });
    expect(live.isClosed(T0)).toBe(false);

    expect(live.addMinute({ t: T0, open: 10, high: 12.5, low: 9.5, close: 11.5, volume: 4, vwap: 11 })).toEqual([T0]);
    expect(live.isClosed(T0)).toBe(true);
    expect(live.bar(T0)).toMatchObject({ high: 12.5, low: 9.5, close: 11.5, volume: 4 });
  });

  it("ignores seconds of a minute already final", () => {
    const live = new LiveBars(minuteBuckets);
    live.addMinute(bar(T0, 10, 5));
    expect(live.addSecond(bar(T0 + 30 * S, 99))).toEqual([]);
    expect(live.bar(T0)?.close).toBe(10);
  });

  it("closes a window when a later one gets data, and names both as changed", () => {
    const live = new LiveBars(minuteBuckets);
    live.addSecond(bar(T0 + 59 * S, 10));
    expect(live.addSecond(bar(T0 + M + S, 11))).toEqual([T0, T0 + M]);
    expect(live.isClosed(T0)).toBe(true);
    expect(live.isClosed(T0 + M)).toBe(false);
    // the minute's bar, late, still corrects the closed window
    live.addMinute({ t: T0, open: 9, high: 10, low: 9, close: 10, volume: 2, vwap: 9.5 });
    expect(live.bar(T0)).toMatchObject({ open: 9, volume: 2 });
  });

  it("changes nothing when the same values come again (a reconnect's first messages)", () => {
    const live = new LiveBars(minuteBuckets);
    live.addMinute(bar(T0, 10, 5));
    live.addSecond(bar(T0 + M + S, 11, 2));
    const before = live.bar(T0 + M);
    live.addMinute(bar(T0, 10, 5));
    live.addSecond(bar(T0 + M + S, 11, 2));
    expect(live.bar(T0 + M)).toEqual(before);
    expect(live.bar(T0)?.volume).toBe(5);
  });
});

describe("LiveBars on an hourly chart", () => {
  it("aggregates final minutes and pending seconds into the hour", () => {
    const live = new LiveBars(hourBuckets);
    live.addMinute({ t: T0, open: 10, high: 11, low: 9, close: 10.5, volume: 10, vwap: 10 });
    live.addMinute({ t: T0 + M, open: 10.5, high: 12, low: 10, close: 11, volume: 10, vwap: 11 });
    live.addSecond(bar(T0 + 2 * M + 3 * S, 13, 5));
    expect(live.bar(T0)).toEqual({ t: T0, open: 10, high: 13, low: 9, close: 13, volume: 25, vwap: (100 + 110 + 65) / 25 });
    expect(live.isClosed(T0)).toBe(false);
  });

  it("closes the hour with its last minute", () => {
    const live = new LiveBars(hourBuckets);
    live.addMinute(bar(T0 + 58 * M, 10));
    expect(live.isClosed(T0)).toBe(false);
    live.addMinute(bar(T0 + 59 * M, 11));
    expect(live.isClosed(T0)).toBe(true);
  });

  it("orders a late minute before later seconds", () => {
    const live = new LiveBars(hourBuckets);
    live.addSecond(bar(T0 + M + 5 * S, 20));
    live.addSecond(bar(T0 + 2 * M + 5 * S, 30));
    live.addMinute(bar(T0 + M, 21));
    expect(live.bar(T0)).toMatchObject({ open: 21, close: 30 });
  });
});
