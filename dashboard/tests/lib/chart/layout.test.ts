import { describe, expect, it } from "vitest";
import { plotOf, timeDomain, timeScale, valueScale, valueTicks, VALUE_AXIS_WIDTH } from "../../../src/lib/chart/layout";

describe("plotOf", () => {
  it("leaves room for the value labels and, under the price, the time labels", () => {
    const withAxis = plotOf(1000, 400, true);
    const without = plotOf(1000, 400, false);
    expect(withAxis.width).toBe(1000 - VALUE_AXIS_WIDTH);
    expect(withAxis.height).toBeLessThan(without.height);
  });
});

describe("timeDomain", () => {
  it("runs from the first bar to past the last, with room for the forming bar", () => {
    expect(timeDomain([], 60_000)).toBeNull();
    expect(timeDomain([1000], 60_000)).toEqual([1000 - 60_000, 1000 + 60_000]);
    const [a, b] = timeDomain([0, 6_000_000], 60_000)!;
    expect(a).toBe(0);
    expect(b).toBe(6_000_000 + 120_000);
  });
});

describe("value scales", () => {
  const plot = plotOf(800, 400, true);

  it("frames the data between the first and last rules, inside the plot", () => {
    const y = valueScale([1240.3, 1322.2], plot);
    const { values } = valueTicks(y, plot);
    expect(values[0]).toBeLessThanOrEqual(1240.3);
    expect(values[values.length - 1]).toBeGreaterThanOrEqual(1322.2);
    expect(y(1240.3)).toBeLessThanOrEqual(plot.top + plot.height);
    expect(y(1322.2)).toBeGreaterThanOrEqual(plot.top);
    expect(y.invert(y(1300.5))).toBeCloseTo(1300.5, 9);
  });

  it("is logarithmic when asked and the range is positive", () => {
    expect(valueScale([10, 5000], plot, true).log).toBe(true);
    expect(valueScale([-1, 5], plot, true).log).toBe(false);
  });

  it("maps times across the plot's width", () => {
    const x = timeScale([0, 1000], plot);
    expect(x(0)).toBe(plot.left);
    expect(x(1000)).toBe(plot.left + plot.width);
  });
});
