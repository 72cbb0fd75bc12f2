import { describe, expect, it } from "vitest";
import { ohlcPaths, parsePoints, polylinePoints, polylineRuns, stemPath, VertexCache } from "../../../src/lib/chart/polyline";
import { linearScale } from "../../../src/lib/chart/scale";

const x = linearScale([0, 10], [0, 100]);
const y = linearScale([0, 1], [50, 0]);

describe("polylinePoints", () => {
  it("has one vertex per value, mapped by the scales", () => {
    const points = polylinePoints([0, 5, 10], [0, 0.5, 1], x, y);
    expect(points).toBe("0,50 50,25 100,0");
    expect(parsePoints(points)).toEqual([[0, 50], [50, 25], [100, 0]]);
  });

  it("rounds to 1/100 px, close enough to map a vertex back to its value", () => {
    const [[px, py]] = parsePoints(polylinePoints([1 / 3], [1 / 7], x, y));
    expect(px).toBe(3.33);
    expect(Math.abs(y.invert(py) - 1 / 7)).toBeLessThan(0.01 / 50 + 1e-12);
  });

  it("splits runs at missing values", () => {
    expect(polylineRuns([0, 1, 2, 3, 4], [null, 0, 1, null, 0], x, y)).toEqual(["10,50 20,0", "40,50"]);
    expect(polylinePoints([0, 1], [null, undefined], x, y)).toBe("");
  });
});

describe("paths", () => {
  it("draws stems from a baseline", () => {
    expect(stemPath([0, 10], [1, null], x, y, 0)).toBe("M0 50V0");
  });
  it("draws OHLC bars, rising and falling apart", () => {
    const paths = ohlcPaths({ t: [0, 10], open: [0, 1], high: [1, 1], low: [0, 0], close: [1, 0] }, x, y, 2);
    expect(paths.up).toBe("M0 0V50M-2 50H0M0 0H2");
    expect(paths.down).toBe("M100 0V50M98 0H100M100 50H102");
  });
});

describe("VertexCache", () => {
  it("draws what the plain functions draw, before and after a change", () => {
    const ts = [0, 2, 4, 6, 8];
    const vs: (number | null)[] = [0.1, null, 0.5, 0.7, 0.9];
    const cache = VertexCache.polyline();
    const stems = VertexCache.stems(0);
    expect(cache.runs(ts, vs, x, y)).toEqual(polylineRuns(ts, vs, x, y));
    expect(stems.path(ts, vs, x, y)).toBe(stemPath(ts, vs, x, y, 0));
    const moved = [...vs.slice(0, 4), 0.95];
    expect(cache.points(ts, moved, x, y)).toBe(polylinePoints(ts, moved, x, y));
    const grown = [...ts, 10];
    expect(cache.points(grown, [...moved, 0.2], x, y)).toBe(polylinePoints(grown, [...moved, 0.2], x, y));
    const other = linearScale([0, 20], [0, 100]);
    expect(cache.points(ts, moved, other, y)).toBe(polylinePoints(ts, moved, other, y));
  });
});
