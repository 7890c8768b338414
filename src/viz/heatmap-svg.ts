/**
 * A weight map as an SVG heat map: row labels on the left, column labels rotated above the grid,
 * axis titles, a colour bar with the min and max, and a tooltip (<title>) on every cell. Output is a
 * pure function of the map and the options (byte-identical on every run and platform: fixed
 * number formatting, no ids, no dates).
 *
 * Long sequences stay readable and small: cells shrink so the grid's longer side fits
 * `maxGridSize`, labels are thinned so they never overlap (every k-th, prefixed with its index),
 * and above `tooltipLimit` cells the grid is drawn as one path per colour with horizontal runs
 * merged instead of one <rect> with a tooltip per cell.
 */
import type { WeightMap } from "../models/task-model.js";
import { COLORMAP, COLORMAP_SIZE, colorIndex, finiteRange, hex, MISSING_COLOR } from "./colormap.js";
import { CHAR_WIDTH, coord, escapeXml, formatValue, labelStep, svgOpen, truncate } from "./markup.js";
import { checkWeightMap } from "./weight-map.js";

export interface HeatmapSvgOptions {
  /** Heading above the map (default: the map's name). */
  title?: string;
  /** Largest cell side in pixels (default 24). */
  maxCellSize?: number;
  /** Largest side of the grid in pixels; cells shrink to fit it (default 800). */
  maxGridSize?: number;
  /** Font size in pixels (default 11). */
  fontSize?: number;
  /** Labels longer than this are cut with an ellipsis; tooltips keep them whole (default 16). */
  maxLabelChars?: number;
  /** Cells up to which each gets its own <rect> and tooltip (default 40,000, a 200 x 200 map). */
  tooltipLimit?: number;
  /** false: no xmlns attribute, for SVG inlined in HTML (default true). */
  standalone?: boolean;
}

/** Pixel geometry of a heat map: where the grid, labels and colour bar go. */
interface Layout {
  cell: number;
  fontSize: number;
  rowStep: number;
  colStep: number;
  rowLabelChars: number;
  colLabelChars: number;
  gridX: number;
  gridY: number;
  barX: number;
  barHeight: number;
  width: number;
  height: number;
}

const PAD = 8;
const BAR_WIDTH = 12;

function shownLabel(label: string, index: number, step: number, maxChars: number): string {
  // thinned labels carry their index, or the reader could not tell which position they name
  if (step === 1) return truncate(label, maxChars);
  return label === String(index) ? label : `${index} ${truncate(label, Math.min(maxChars, 8))}`;
}

function longest(labels: readonly string[], step: number, maxChars: number): number {
  let n = 1;
  for (let i = 0; i < labels.length; i += step) n = Math.max(n, Array.from(shownLabel(labels[i]!, i, step, maxChars)).length);
  return n;
}

function layout(map: WeightMap, o: Required<Omit<HeatmapSvgOptions, "title" | "standalone">>, barText: number): Layout {
  const rows = map.rowLabels.length;
  const cols = map.colLabels.length;
  // rounded, so the scale written into the document is short
  const cell = Math.round(Math.min(o.maxCellSize, o.maxGridSize / Math.max(rows, cols)) * 1e4) / 1e4;
  const fontSize = o.fontSize;
  const charW = fontSize * CHAR_WIDTH;
  const rowStep = labelStep(cell, fontSize);
  const colStep = labelStep(cell, fontSize);
  const rowLabelChars = longest(map.rowLabels, rowStep, o.maxLabelChars);
  const colLabelChars = longest(map.colLabels, colStep, o.maxLabelChars);
  const titleH = fontSize * 1.8;
  const axisH = fontSize * 1.6;
  const gridX = PAD + axisH + rowLabelChars * charW + 6;
  const gridY = PAD + titleH + axisH + colLabelChars * charW + 6;
  const barX = gridX + cols * cell + 16;
  const barHeight = Math.max(rows * cell, 80);
  const width = barX + BAR_WIDTH + 6 + barText * charW + PAD;
  const height = gridY + barHeight + PAD;
  return { cell, fontSize, rowStep, colStep, rowLabelChars, colLabelChars, gridX, gridY, barX, barHeight, width, height };
}

/** The colour bar: 64 bands from min (bottom) to max (top), outlined, with both ends labelled. */
function colorBar(l: Layout, min: number, max: number): string {
  const bands = 64;
  const band = l.barHeight / bands;
  const out: string[] = [`<g shape-rendering="crispEdges">`];
  for (let i = 0; i < bands; i++) {
    const c = COLORMAP[Math.round((i * (COLORMAP_SIZE - 1)) / (bands - 1))]!;
    const y = l.gridY + l.barHeight - (i + 1) * band;
    out.push(`<rect x="${coord(l.barX)}" y="${coord(y)}" width="${BAR_WIDTH}" height="${coord(band + 0.05)}" fill="${hex(c)}"/>`);
  }
  out.push(
    `<rect x="${coord(l.barX)}" y="${coord(l.gridY)}" width="${BAR_WIDTH}" height="${coord(l.barHeight)}" fill="none" stroke="#444" stroke-width="0.5"/>`,
    "</g>",
  );
  const tx = coord(l.barX + BAR_WIDTH + 4);
  out.push(
    `<text x="${tx}" y="${coord(l.gridY)}" dominant-baseline="hanging">max ${escapeXml(formatValue(max))}</text>`,
    `<text x="${tx}" y="${coord(l.gridY + l.barHeight)}">min ${escapeXml(formatValue(min))}</text>`,
  );
  return out.join("\n");
}

function labels(map: WeightMap, l: Layout, maxChars: number): string {
  const out: string[] = [`<g fill="#222">`];
  for (let i = 0; i < map.rowLabels.length; i += l.rowStep) {
    const y = l.gridY + (i + 0.5) * l.cell;
    const text = escapeXml(shownLabel(map.rowLabels[i]!, i, l.rowStep, maxChars));
    out.push(`<text x="${coord(l.gridX - 4)}" y="${coord(y)}" text-anchor="end" dominant-baseline="central">${text}</text>`);
  }
  for (let j = 0; j < map.colLabels.length; j += l.colStep) {
    const x = l.gridX + (j + 0.5) * l.cell;
    const text = escapeXml(shownLabel(map.colLabels[j]!, j, l.colStep, maxChars));
    out.push(`<text transform="translate(${coord(x)} ${coord(l.gridY - 4)}) rotate(-90)" dominant-baseline="central">${text}</text>`);
  }
  const rowsMid = l.gridY + (map.rowLabels.length * l.cell) / 2;
  const axisX = PAD + l.fontSize * 0.8;
  out.push(
    `<text transform="translate(${coord(axisX)} ${coord(rowsMid)}) rotate(-90)" text-anchor="middle" dominant-baseline="central" font-weight="bold">${escapeXml(map.rowAxis)}</text>`,
    `<text x="${coord(l.gridX + (map.colLabels.length * l.cell) / 2)}" y="${coord(PAD + l.fontSize * 1.8 + l.fontSize * 0.8)}" text-anchor="middle" dominant-baseline="central" font-weight="bold">${escapeXml(map.colAxis)}</text>`,
    "</g>",
  );
  return out.join("\n");
}

function cellColor(index: number): string {
  return hex(index < 0 ? MISSING_COLOR : COLORMAP[index]!);
}

/** One <rect> per cell, each with a tooltip naming its row, column and value. */
function cellRects(map: WeightMap, min: number, max: number): string {
  const rows = map.rowLabels.length;
  const cols = map.colLabels.length;
  const out: string[] = [];
  for (let i = 0; i < rows; i++) {
    const rowText = `${map.rowAxis} ${i} ${JSON.stringify(map.rowLabels[i])}`;
    for (let j = 0; j < cols; j++) {
      const v = map.values[i * cols + j]!;
      const tip = escapeXml(`${rowText} → ${map.colAxis} ${j} ${JSON.stringify(map.colLabels[j])}: ${formatValue(v)}`);
      out.push(`<rect x="${j}" y="${i}" width="1" height="1" fill="${cellColor(colorIndex(v, min, max))}"><title>${tip}</title></rect>`);
    }
  }
  return out.join("\n");
}

/** One path per colour, with each row's runs of equal colour merged: compact for big maps. */
function cellPaths(map: WeightMap, min: number, max: number): string {
  const rows = map.rowLabels.length;
  const cols = map.colLabels.length;
  // index -1 (missing) is stored at slot COLORMAP_SIZE
  const paths: string[][] = Array.from({ length: COLORMAP_SIZE + 1 }, () => []);
  for (let i = 0; i < rows; i++) {
    let j = 0;
    while (j < cols) {
      const c = colorIndex(map.values[i * cols + j]!, min, max);
      let end = j + 1;
      while (end < cols && colorIndex(map.values[i * cols + end]!, min, max) === c) end++;
      paths[c < 0 ? COLORMAP_SIZE : c]!.push(`M${j} ${i}h${end - j}v1h${j - end}z`);
      j = end;
    }
  }
  const out: string[] = [];
  paths.forEach((d, slot) => {
    if (d.length > 0) out.push(`<path fill="${cellColor(slot === COLORMAP_SIZE ? -1 : slot)}" d="${d.join("")}"/>`);
  });
  return out.join("\n");
}

/** The map as an SVG document (or an inline <svg> element with `standalone: false`). */
export function heatmapSvg(map: WeightMap, opts: HeatmapSvgOptions = {}): string {
  checkWeightMap("heatmapSvg", map);
  const o = {
    maxCellSize: opts.maxCellSize ?? 24,
    maxGridSize: opts.maxGridSize ?? 800,
    fontSize: opts.fontSize ?? 11,
    maxLabelChars: opts.maxLabelChars ?? 16,
    tooltipLimit: opts.tooltipLimit ?? 40_000,
  };
  const { min, max } = finiteRange(map.values);
  const l = layout(map, o, 4 + Math.max(formatValue(min).length, formatValue(max).length));
  const rows = map.rowLabels.length;
  const cols = map.colLabels.length;
  const title = opts.title ?? map.name;
  return [
    svgOpen(l.width, l.height, l.fontSize, opts.standalone ?? true),
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${PAD}" y="${coord(PAD + l.fontSize)}" font-size="${coord(l.fontSize * 1.25)}" font-weight="bold" fill="#222">${escapeXml(title)}</text>`,
    `<g transform="translate(${coord(l.gridX)} ${coord(l.gridY)}) scale(${l.cell})" shape-rendering="crispEdges">`,
    rows * cols <= o.tooltipLimit ? cellRects(map, min, max) : cellPaths(map, min, max),
    "</g>",
    labels(map, l, o.maxLabelChars),
    colorBar(l, min, max),
    "</svg>",
    "",
  ].join("\n");
}
