// PNG heat maps: encoded with fast-png, decoded back with it, pixel for pixel.
import { decode } from "fast-png";
import { describe, expect, it } from "vitest";
import { COLORMAP, MISSING_COLOR } from "../../src/viz/colormap.js";
import { heatmapPixels, heatmapPng } from "../../src/viz/heatmap-png.js";
import { weightMap } from "./helpers.js";

describe("heatmapPng", () => {
  it("encodes each cell as a cellSize square in the colour scale (decoded back exactly)", () => {
    const map = weightMap(2, 3, { values: Float32Array.of(0, 0.5, 1, Number.NaN, 0.25, 1) });
    const png = heatmapPng(map, { cellSize: 2 });
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const img = decode(png);
    expect([img.width, img.height, img.channels, img.depth]).toEqual([6, 4, 3, 8]);
    const pixel = (x: number, y: number): number[] => Array.from(img.data.slice((y * 6 + x) * 3, (y * 6 + x) * 3 + 3));
    const expected = [
      [COLORMAP[0], COLORMAP[128], COLORMAP[255]],
      [MISSING_COLOR, COLORMAP[64], COLORMAP[255]],
    ];
    for (let y = 0; y < 4; y++) for (let x = 0; x < 6; x++) expect(pixel(x, y), `pixel ${x},${y}`).toEqual(expected[y >> 1]![x >> 1]);
  });

  it("is deterministic and picks a cell size that keeps big maps near 1024 pixels", () => {
    const map = weightMap(3, 5);
    expect(heatmapPng(map)).toEqual(heatmapPng(weightMap(3, 5)));
    expect(heatmapPixels(map)).toMatchObject({ width: 80, height: 48 });
    const big = heatmapPixels(weightMap(1500, 700));
    expect([big.width, big.height]).toEqual([700, 1500]);
  });

  it("rejects bad cell sizes and images too large to open", () => {
    expect(() => heatmapPng(weightMap(2, 2), { cellSize: 0 })).toThrow(/^heatmapPng: cellSize must be an integer in 1\.\.256/);
    expect(() => heatmapPng(weightMap(2, 2), { cellSize: 1.5 })).toThrow(/cellSize/);
    expect(() => heatmapPng(weightMap(200, 2), { cellSize: 200 })).toThrow(/too large/);
  });
});
