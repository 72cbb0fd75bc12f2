import { describe, expect, it } from "vitest";
import { canUseLog, extent, linearScale, logScale, paddedDomain, sameScale, scaleMemo } from "../../../src/lib/chart/scale";

describe("linearScale", () => {
  it("maps the domain onto the range and back", () => {
    const y = linearScale([100, 200], [300, 0]);
    expect(y(100)).toBe(300);
    expect(y(200)).toBe(0);
    expect(y(150)).toBe(150);
    expect(y.invert(75)).toBeCloseTo(175, 12);
    for (const v of [101.25, 133.7, 199.99]) expect(y.invert(y(v))).toBeCloseTo(v, 9);
  });

  it("puts every value of a zero-width domain in the middle", () => {
    const x = linearScale([5, 5], [0, 100]);
    expect(x(5)).toBe(50);
    expect(x.invert(10)).toBe(5);
  });
});

describe("logScale", () => {
  it("spaces equal ratios equally", () => {
    const y = logScale([1, 100], [200, 0]);
    expect(y(1)).toBe(200);
    expect(y(10)).toBeCloseTo(100, 9);
    expect(y(100)).toBeCloseTo(0, 9);
    expect(y.invert(50)).toBeCloseTo(Math.pow(10, 1.5), 9);
  });

  it("refuses a domain that is not positive", () => {
    expect(() => logScale([0, 10], [0, 1])).toThrow(RangeError);
    expect(canUseLog([0, 10])).toBe(false);
    expect(canUseLog([0.5, 10])).toBe(true);
  });
});

describe("extent", () => {
  it("skips nulls and non-finite values across columns", () => {
    expect(extent([[3, null, 1], [NaN, 7, undefined]])).toEqual([1, 7]);
  });
  it("is null without values", () => {
    expect(extent([[null], []])).toBeNull();
  });
});

describe("paddedDomain", () => {
  it("pads each side by a fraction of the span", () => {
    expect(paddedDomain(100, 200, 0.1)).toEqual([90, 210]);
  });
  it("widens a single value by 1% (1 at zero)", () => {
    expect(paddedDomain(50, 50)).toEqual([49.5, 50.5]);
    expect(paddedDomain(0, 0)).toEqual([-1, 1]);
  });
  it("pads in log space and stays positive", () => {
    const [lo, hi] = paddedDomain(1, 100, 0.5, true);
    expect(lo).toBeCloseTo(0.1, 12);
    expect(hi).toBeCloseTo(1000, 9);
  });
});

describe("scaleMemo", () => {
  it("keeps the previous scale while the mapping is the same", () => {
    const memo = scaleMemo();
    const a = memo(linearScale([0, 1], [0, 100]));
    expect(memo(linearScale([0, 1], [0, 100]))).toBe(a);
    expect(memo(linearScale([0, 2], [0, 100]))).not.toBe(a);
    expect(sameScale(linearScale([1, 2], [0, 1]), logScale([1, 2], [0, 1]))).toBe(false);
  });
});
