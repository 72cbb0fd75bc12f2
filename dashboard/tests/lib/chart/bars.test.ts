import { describe, expect, it } from "vitest";
import { aggregate, BarSeries, combine, nearestIndex, search, type Bar } from "../../../src/lib/chart/bars";

const bar = (t: number, close: number, volume = 1, extra: Partial<Bar> = {}): Bar => ({
  t, open: close, high: close, low: close, close, volume, vwap: close, ...extra,
});

describe("search and nearestIndex", () => {
  it("finds a time or where it would go", () => {
    expect(search([10, 20, 30], 20)).toBe(1);
    expect(search([10, 20, 30], 25)).toBe(-3);
    expect(search([10, 20, 30], 5)).toBe(-1);
    expect(search([], 5)).toBe(-1);
  });
  it("finds the nearest time", () => {
    expect(nearestIndex([10, 20, 30], 24)).toBe(1);
    expect(nearestIndex([10, 20, 30], 26)).toBe(2);
    expect(nearestIndex([10, 20, 30], -100)).toBe(0);
    expect(nearestIndex([10, 20, 30], 100)).toBe(2);
    expect(nearestIndex([], 1)).toBe(-1);
  });
});

describe("BarSeries.upsert", () => {
  it("appends, replaces in place and inserts in order, never duplicating a time", () => {
    const s = new BarSeries();
    expect(s.upsert(bar(10, 1))).toBe("inserted");
    expect(s.upsert(bar(30, 3))).toBe("inserted");
    expect(s.upsert(bar(20, 2))).toBe("inserted");
    expect(s.upsert(bar(30, 3.5))).toBe("replaced");
    expect(s.t).toEqual([10, 20, 30]);
    expect(s.close).toEqual([1, 2, 3.5]);
    expect(s.last()?.close).toBe(3.5);
  });
});

describe("aggregate", () => {
  it("takes the first open, the extremes, the last close, the summed volume and weighted vwap", () => {
    const parts = [
      { t: 0, open: 10, high: 12, low: 9, close: 11, volume: 100, vwap: 10.5 },
      { t: 1, open: 11, high: 15, low: 11, close: 14, volume: 300, vwap: 13.5 },
    ];
    expect(aggregate(0, parts)).toEqual({ t: 0, open: 10, high: 15, low: 9, close: 14, volume: 400, vwap: 12.75 });
    expect(aggregate(0, [])).toBeNull();
  });
});

describe("combine", () => {
  it("keeps the stored open, widens the extremes, takes the live close and the larger volume", () => {
    const stored = { t: 0, open: 10, high: 12, low: 9, close: 11, volume: 500, vwap: 10.8 };
    const live = { t: 0, open: 11, high: 13, low: 10, close: 12.5, volume: 200, vwap: 12 };
    expect(combine(stored, live)).toEqual({ t: 0, open: 10, high: 13, low: 9, close: 12.5, volume: 500, vwap: 10.8 });
  });
});
