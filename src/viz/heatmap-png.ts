/**
 * A weight map as a PNG (encoded by the fast-png package, pure JavaScript, so this also works in a
 * browser): each cell a square of `cellSize` pixels in the colour scale of colormap.ts, no text. A
 * PNG is for pasting into documents and comparing runs by eye; the labels live in the SVG and HTML.
 */
import { encode } from "fast-png";
import { ArgumentError } from "../core/errors.js";
import type { WeightMap } from "../models/task-model.js";
import { COLORMAP, colorIndex, finiteRange, MISSING_COLOR } from "./colormap.js";
import { checkWeightMap } from "./weight-map.js";

export interface HeatmapPngOptions {
  /** Pixels per cell side (default: as many as keep the longer side <= 1024 px, at most 16, at least 1). */
  cellSize?: number;
}

/** The RGB pixels of the map: `cellSize` x `cellSize` pixels per cell, row-major. */
export function heatmapPixels(map: WeightMap, opts: HeatmapPngOptions = {}): { width: number; height: number; data: Uint8Array } {
  checkWeightMap("heatmapPng", map);
  const rows = map.rowLabels.length;
  const cols = map.colLabels.length;
  const cell = opts.cellSize ?? Math.max(1, Math.min(16, Math.floor(1024 / Math.max(rows, cols))));
  if (!Number.isSafeInteger(cell) || cell < 1 || cell > 256)
    throw new ArgumentError(`heatmapPng: cellSize must be an integer in 1..256, got ${String(opts.cellSize)}`);
  const width = cols * cell;
  const height = rows * cell;
  // a PNG side is limited only by memory; refuse sizes no viewer opens rather than allocate them
  if (width > 32_768 || height > 32_768)
    throw new ArgumentError(`heatmapPng: ${width} x ${height} pixels is too large; use a smaller cellSize`);
  const { min, max } = finiteRange(map.values);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < rows; i++) {
    // build one pixel row of this map row, then repeat it `cell` times
    const line = new Uint8Array(width * 3);
    for (let j = 0; j < cols; j++) {
      const k = colorIndex(map.values[i * cols + j]!, min, max);
      const c = k < 0 ? MISSING_COLOR : COLORMAP[k]!;
      for (let x = 0; x < cell; x++) line.set(c, (j * cell + x) * 3);
    }
    for (let y = 0; y < cell; y++) data.set(line, (i * cell + y) * width * 3);
  }
  return { width, height, data };
}

/** The map as PNG bytes (8-bit RGB). */
export function heatmapPng(map: WeightMap, opts: HeatmapPngOptions = {}): Uint8Array {
  const { width, height, data } = heatmapPixels(map, opts);
  return encode({ width, height, data, channels: 3, depth: 8 });
}
