// The colour scale: computed, perceptually ordered, in gamut; values map onto it predictably.
import { describe, expect, it } from "vitest";
import { COLORMAP, COLORMAP_SIZE, colorIndex, colorOf, finiteRange, hex, MISSING_COLOR, type Rgb } from "../../src/viz/colormap.js";

/** CIE relative luminance of an sRGB colour. */
function luminance(c: Rgb): number {
  const lin = c.map((x) => {
    const v = x / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * lin[0]! + 0.7152 * lin[1]! + 0.0722 * lin[2]!;
}

describe("colormap", () => {
  it("has 256 8-bit colours from dark violet to light yellow", () => {
    expect(COLORMAP).toHaveLength(COLORMAP_SIZE);
    for (const c of COLORMAP) for (const x of c) expect(Number.isInteger(x) && x >= 0 && x <= 255).toBe(true);
    const [r0, g0, b0] = COLORMAP[0]!;
    expect(b0).toBeGreaterThan(r0);
    expect(b0).toBeGreaterThan(g0);
    expect(luminance(COLORMAP[0]!)).toBeLessThan(0.03);
    const [r1, g1, b1] = COLORMAP[255]!;
    expect(Math.min(r1, g1)).toBeGreaterThan(200);
    expect(b1).toBeLessThan(100);
    expect(luminance(COLORMAP[255]!)).toBeGreaterThan(0.75);
  });

  it("gets lighter at every step (readable in greyscale), with no big jumps", () => {
    const lum = COLORMAP.map(luminance);
    for (let i = 1; i < lum.length; i++) {
      expect(lum[i]!, `entry ${i}`).toBeGreaterThanOrEqual(lum[i - 1]!);
      expect(lum[i]! - lum[i - 1]!).toBeLessThan(0.02);
    }
  });

  it("places values on [min, max], grey for non-finite values, index 0 for a constant map", () => {
    expect(colorIndex(0, 0, 1)).toBe(0);
    expect(colorIndex(1, 0, 1)).toBe(255);
    expect(colorIndex(0.5, 0, 1)).toBe(128);
    expect(colorIndex(-3, 0, 1)).toBe(0);
    expect(colorIndex(7, 0, 1)).toBe(255);
    expect(colorIndex(Number.NaN, 0, 1)).toBe(-1);
    expect(colorIndex(Infinity, 0, 1)).toBe(-1);
    expect(colorIndex(2, 2, 2)).toBe(0);
    expect(colorOf(Number.NaN, 0, 1)).toEqual(MISSING_COLOR);
    expect(colorOf(1, 0, 1)).toEqual(COLORMAP[255]);
    expect(hex([255, 0, 16])).toBe("#ff0010");
  });

  it("finds the range of the finite values only", () => {
    expect(finiteRange(Float32Array.of(3, -1, 2))).toEqual({ min: -1, max: 3 });
    expect(finiteRange(Float32Array.of(Number.NaN, 0.5, Infinity, -Infinity, 0.25))).toEqual({ min: 0.25, max: 0.5 });
    expect(finiteRange(Float32Array.of(Number.NaN))).toEqual({ min: 0, max: 0 });
  });
});
