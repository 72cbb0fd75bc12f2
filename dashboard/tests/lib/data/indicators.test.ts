import { describe, expect, it } from "vitest";
import { IndicatorTable } from "../../../src/lib/data/indicators";

describe("IndicatorTable", () => {
  it("loads columns, merges live points by time and reads values at bar times", () => {
    const table = new IndicatorTable();
    table.putColumns("SMA", [10, 20, 30], { sma_20: [null, 1, 2], sma_200: [null, null, 5], sma_50: [1, 1, 1] });
    table.put("SMA", 30, { sma_20: 2.5, sma_50: 1, sma_200: 5 });
    table.put("SMA", 40, { sma_20: 3, sma_50: 1.1, sma_200: "x" });
    expect(table.fields("SMA")).toEqual(["sma_20", "sma_50", "sma_200"]);
    expect(table.column("SMA", "sma_20", [10, 30, 40, 50])).toEqual([null, 2.5, 3, null]);
    expect(table.column("SMA", "sma_200", [40])).toEqual([null]);
    expect(table.size("SMA")).toBe(4);
    expect(table.column("RSI", "rsi_14", [10])).toEqual([null]);
  });
});

describe("IndicatorTable.column reuse", () => {
  it("returns the same column while nothing changed, a fresh one after a put or other times", () => {
    const table = new IndicatorTable();
    table.putColumns("RSI", [10, 20], { rsi_14: [40, 60] });
    const first = table.column("RSI", "rsi_14", [10, 20]);
    expect(table.column("RSI", "rsi_14", [10, 20])).toBe(first);
    const other = table.column("RSI", "rsi_14", [10, 30]);
    expect(other).toEqual([40, null]);
    table.put("RSI", 30, { rsi_14: 55 });
    expect(table.column("RSI", "rsi_14", [10, 30])).toEqual([40, 55]);
  });
});
