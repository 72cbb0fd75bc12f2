import { describe, expect, it } from "vitest";
import { formatTick, formatValue, linearTicks, logTicks, multiples, niceDomain, niceStep, stepDecimals } from "../../../src/lib/chart/ticks";

const isOneTwoFive = (step: number) => {
  const mantissa = step / Math.pow(10, Math.floor(Math.log10(step) + 1e-9));
  return [1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-9);
};

describe("niceStep", () => {
  it("is the smallest 1-2-5 step within the tick budget", () => {
    expect(niceStep(100, 10)).toBe(10);
    expect(niceStep(100, 9)).toBe(20);
    expect(niceStep(100, 4)).toBe(50);
    expect(niceStep(1, 10)).toBeCloseTo(0.1, 12);
    expect(niceStep(0.3, 3)).toBeCloseTo(0.1, 12);
    expect(niceStep(7300, 6)).toBe(2000);
  });

  it("always gives a 1-2-5 step that fits", () => {
    for (const span of [0.0037, 0.9, 3, 47, 1234.5, 9.99e6]) {
      for (const max of [2, 5, 7, 12]) {
        const step = niceStep(span, max);
        expect(isOneTwoFive(step)).toBe(true);
        expect(span / step).toBeLessThanOrEqual(max + 1e-9);
      }
    }
  });
});

describe("multiples and linearTicks", () => {
  it("lists the multiples inside the range without binary noise", () => {
    expect(multiples(0.05, 0.45, 0.1)).toEqual([0.1, 0.2, 0.3, 0.4]);
    expect(multiples(-15, 15, 10)).toEqual([-10, 0, 10]);
  });

  it("covers the range with at most the budget", () => {
    const { step, values } = linearTicks(1269.3, 1272.9, 6);
    expect(step).toBe(1);
    expect(values).toEqual([1270, 1271, 1272]);
    expect(stepDecimals(step)).toBe(0);
    expect(stepDecimals(0.05)).toBe(2);
  });
});

describe("logTicks", () => {
  it("uses linear ticks within a decade", () => {
    expect(logTicks(20, 90, 8).values).toEqual(linearTicks(20, 90, 8).values);
  });
  it("uses 1-2-5 per decade across decades, then powers of ten", () => {
    expect(logTicks(1, 1000, 12).values).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    expect(logTicks(1, 1000, 5).values).toEqual([1, 10, 100, 1000]);
    expect(logTicks(1, 1e8, 3).values).toEqual([1, 1e3, 1e6]);
  });
});

describe("formatting", () => {
  it("writes a tick with its step's decimals", () => {
    expect(formatTick(1270, 1)).toBe("1,270");
    expect(formatTick(0.3, 0.05)).toBe("0.30");
  });
  it("writes readout values with about six significant digits", () => {
    expect(formatValue(1269.512756)).toBe("1269.51");
    expect(formatValue(3.89)).toBe("3.89000");
    expect(formatValue(19854959)).toBe("19.85M");
    expect(formatValue(null)).toBe("—");
  });
});

describe("niceDomain", () => {
  it("widens to multiples of the step, so the first and last rules frame the data", () => {
    expect(niceDomain(1237.4, 1326.1, 10)).toEqual([1230, 1330]);
    expect(niceDomain(0.012, 0.0871, 6)).toEqual([0, 0.1]);
    for (const [lo, hi, max] of [[3.3, 9.7, 4], [-0.37, 0.52, 5], [1269.2, 1269.9, 8], [0, 19854959, 3]]) {
      const [a, b] = niceDomain(lo, hi, max);
      const { values } = linearTicks(a, b, max);
      expect(values[0]).toBe(a);
      expect(values[values.length - 1]).toBe(b);
      expect(a).toBeLessThanOrEqual(lo);
      expect(b).toBeGreaterThanOrEqual(hi);
    }
  });

  it("widens a log domain across decades to powers of ten, and never to zero", () => {
    expect(niceDomain(3, 4200, 8, true)).toEqual([1, 10000]);
    const [a] = niceDomain(0.9, 8.5, 8, true);
    expect(a).toBeGreaterThan(0);
  });
});
