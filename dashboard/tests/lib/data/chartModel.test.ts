import { describe, expect, it } from "vitest";
import type { Bar } from "../../../src/lib/chart/bars";
import { timeframe } from "../../../src/lib/chart/timeframe";
import { ChartModel } from "../../../src/lib/data/chartModel";
import { nsToMs, rippleBar, seriesBars } from "../../../src/lib/data/convert";

const NY = "America/New_York";
const S = 1000;
const M = 60 * S;
const T0 = Date.parse("2012-01-03T18:00:00Z");
const bar = (t: number, close: number, volume = 1): Bar => ({ t, open: close, high: close, low: close, close, volume, vwap: close });

function minuteChart(stored: Bar[] = [], end: number | null = null): ChartModel {
  const model = new ChartModel(timeframe("1Min", NY), { start: T0 - 60 * M, end }, NY);
  model.loadBars(stored);
  return model;
}

describe("convert", () => {
  it("turns nanosecond strings into ms and ripples' window ends into bar starts", () => {
    expect(nsToMs("1325613840000000000")).toBe(Date.parse("2012-01-03T18:04:00Z"));
    expect(nsToMs("-3124137600000000000")).toBe(-3124137600000);
    expect(rippleBar("1325613840000000000", M, { close: 3.89 })).toMatchObject({ t: Date.parse("2012-01-03T18:03:00Z"), close: 3.89, open: null });
    expect(seriesBars({ tNs: ["1000000"], open: [1], high: [2], low: [0.5], close: [1.5], volume: [10], vwap: [1.2] })).toEqual([
      { t: 1, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, vwap: 1.2 },
    ]);
  });
});

describe("ChartModel", () => {
  it("shows the query's bars, then a forming bar that moves in place and is committed by bar_1m", () => {
    const model = minuteChart([bar(T0 - 2 * M, 9), bar(T0 - M, 9.5)]);
    expect(model.view().t).toEqual([T0 - 2 * M, T0 - M]);

    model.applyBar("BAR_1S", bar(T0 + S, 10));
    let view = model.view();
    expect(view.t).toEqual([T0 - 2 * M, T0 - M, T0]);
    expect(view.formingIndex).toBe(2);
    expect(view.close[2]).toBe(10);

    model.applyBar("BAR_1S", bar(T0 + 2 * S, 10.5));
    view = model.view();
    expect(view.t.length).toBe(3);
    expect(view.close[2]).toBe(10.5);

    model.applyBar("BAR_1M", { ...bar(T0, 10.4, 7), open: 10, high: 10.6 });
    view = model.view();
    expect(view.formingIndex).toBe(-1);
    expect(model.bars.length).toBe(3);
    expect(view.close[2]).toBe(10.4);
    expect(view.high[2]).toBe(10.6);
  });

  it("never duplicates a vertex when a reconnect repeats the latest values", () => {
    const model = minuteChart();
    model.applyBar("BAR_1M", bar(T0, 10, 5));
    model.applyBar("BAR_1S", bar(T0 + M + S, 11));
    const before = model.view();
    model.applyBar("BAR_1M", bar(T0, 10, 5));
    model.applyBar("BAR_1S", bar(T0 + M + S, 11));
    expect(model.view()).toEqual(before);
    expect(before.t).toEqual([T0, T0 + M]);
  });

  it("brings the query's last bar up to date instead of adding a second bar for its window", () => {
    const model = minuteChart([bar(T0 - M, 9), { ...bar(T0, 10, 50), high: 10.2 }]);
    model.applyBar("BAR_1S", bar(T0 + 30 * S, 10.8, 3));
    const view = model.view();
    expect(view.t).toEqual([T0 - M, T0]);
    expect(view.formingIndex).toBe(1);
    expect(view).toMatchObject({ open: [9, 10], high: [9, 10.8], close: [9, 10.8], volume: [1, 50] });
  });

  it("leaves bars outside the chart's range and before the query's last bar alone", () => {
    const model = minuteChart([bar(T0, 10)], T0 + 5 * M);
    expect(model.applyBar("BAR_1M", bar(T0 - 10 * M, 1))).toBe(false);
    expect(model.applyBar("BAR_1M", bar(T0 + 5 * M, 1))).toBe(false);
    expect(model.applyBar("BAR_1M", bar(T0 + 4 * M, 1))).toBe(true);
    expect(model.view().t).toEqual([T0, T0 + 4 * M]);
  });

  it("gathers minutes into the day on a daily chart, with days where the stored bars start", () => {
    const day = Date.parse("2012-01-03T05:00:00Z");
    const model = new ChartModel(timeframe("1Day", NY), { start: day - 10 * 86400_000, end: null }, NY);
    model.loadBars([bar(day - 86400_000, 100, 1000)]);
    model.applyBar("BAR_1M", { ...bar(T0, 101, 10), open: 100.5 });
    model.applyBar("BAR_1M", bar(T0 + M, 102, 10));
    const view = model.view();
    expect(view.t).toEqual([day - 86400_000, day]);
    expect(view).toMatchObject({ open: [100, 100.5], close: [100, 102], volume: [1000, 20], formingIndex: 1 });
  });

  it("uses UTC days when the stored daily bars start at UTC midnight", () => {
    const day = Date.parse("2012-01-03T00:00:00Z");
    const model = new ChartModel(timeframe("1Day", NY), { start: day - 10 * 86400_000, end: null }, NY);
    model.loadBars([bar(day, 100, 1000)]);
    model.applyBar("BAR_1M", bar(T0, 101, 10));
    expect(model.view().t).toEqual([day]);
  });

  it("keeps one model's predictions", () => {
    const model = minuteChart();
    expect(model.applyPrediction("m1", T0 + M, 0.6)).toBe(true);
    expect(model.applyPrediction("m2", T0, 0.1)).toBe(false);
    model.applyPrediction("m1", T0, 0.4);
    expect(model.predictionColumns()).toEqual({ t: [T0, T0 + M], value: [0.4, 0.6] });
  });
});
