/**
 * Line charts as SVG for the docs and reports: several series with a legend, axes with "nice"
 * ticks (1, 2 or 5 x 10^k; powers of ten on a log axis) and axis titles, e.g. loss against step or
 * exact-match accuracy against input length for several models. Deterministic like the heat maps:
 * same input, same bytes. Series are told apart by colour and by dash pattern, so a greyscale
 * print still separates them.
 */
import { ArgumentError } from "../core/errors.js";
import { CHAR_WIDTH, coord, escapeXml, formatValue, svgOpen } from "./markup.js";

export interface Series {
  name: string;
  /** [x, y] pairs in drawing order; a non-finite y breaks the line. */
  points: readonly (readonly [number, number])[];
}

export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Plot area in pixels (default 560 x 320). */
  width?: number;
  height?: number;
  /** "log" plots y on a base-10 scale (positive values only). Default "linear". */
  yScale?: "linear" | "log";
  /** Fixed y range, e.g. [0, 1] for accuracies (default: the data's, widened to nice ticks). */
  yRange?: readonly [number, number];
  /** Draw a dot on every point (default: when a series has at most 30 points). */
  markers?: boolean;
  fontSize?: number;
  /** false: no xmlns attribute, for SVG inlined in HTML (default true). */
  standalone?: boolean;
}

/** Eight hand-picked hues of similar weight, apart enough to tell apart on white. */
const PALETTE = ["#1f6fb4", "#d9621a", "#2b9a4a", "#c23b5f", "#7a5bb5", "#8c6d1f", "#1a9a9a", "#555555"];
const DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 2", "10 4"];

/** Ticks covering [lo, hi]: about `target` multiples of 1, 2 or 5 x 10^k. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) / 2;
    return niceTicks(lo - pad, lo + pad, target);
  }
  const raw = (hi - lo) / target;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  const step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  // multiply (not accumulate) so that 0.1 * 3 does not drift to 0.30000000000000004 in labels
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** Powers of ten covering [lo, hi] (both > 0). */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) ticks.push(Number(`1e${e}`));
  return ticks.length >= 2 ? ticks : [ticks[0]!, ticks[0]! * 10];
}

function checkSeries(series: readonly Series[]): void {
  // checked through unknown: the caller may be plain JavaScript
  const list: unknown = series;
  if (!Array.isArray(list) || list.length === 0) throw new ArgumentError("lineChartSvg: expected at least one series");
  for (const s of series) {
    const points: unknown = s.points;
    if (typeof s.name !== "string" || !Array.isArray(points)) throw new ArgumentError("lineChartSvg: a series needs a name and points");
    for (const p of s.points) {
      const pair: unknown = p;
      if (!Array.isArray(pair) || pair.length !== 2 || typeof p[0] !== "number" || typeof p[1] !== "number")
        throw new ArgumentError(`lineChartSvg: series ${JSON.stringify(s.name)} has a point that is not an [x, y] pair of numbers`);
    }
  }
}

/** The series as an SVG line chart. */
export function lineChartSvg(series: readonly Series[], opts: LineChartOptions = {}): string {
  checkSeries(series);
  const log = opts.yScale === "log";
  const usable = (p: readonly [number, number]): boolean => Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!log || p[1] > 0);
  const pts = series.flatMap((s) => s.points.filter(usable));
  if (pts.length === 0) throw new ArgumentError(`lineChartSvg: no finite${log ? " positive" : ""} points to plot`);
  const fontSize = opts.fontSize ?? 11;
  const charW = fontSize * CHAR_WIDTH;
  const plotW = opts.width ?? 560;
  const plotH = opts.height ?? 320;

  // loops, not Math.min(...xs): a long run's log has more points than a call may take arguments
  let [xMin, xMax, yMin, yMax] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [x, y] of pts) {
    [xMin, xMax, yMin, yMax] = [Math.min(xMin, x), Math.max(xMax, x), Math.min(yMin, y), Math.max(yMax, y)];
  }
  const xTicks = niceTicks(xMin, xMax);
  const yLo = opts.yRange?.[0] ?? yMin;
  const yHi = opts.yRange?.[1] ?? yMax;
  if (log && !(yLo > 0)) throw new ArgumentError("lineChartSvg: a log y axis needs a positive range");
  const yTicks = log ? logTicks(yLo, yHi) : opts.yRange ? niceTicks(yLo, yHi).filter((t) => t >= yLo && t <= yHi) : niceTicks(yLo, yHi);
  const x0 = xTicks[0]!;
  const x1 = xTicks.at(-1)!;
  const [y0, y1] = opts.yRange && !log ? [yLo, yHi] : [yTicks[0]!, yTicks.at(-1)!];
  const fy = (y: number): number => (log ? Math.log10(y) : y);

  const yTickText = yTicks.map(formatValue);
  const left = 8 + (opts.yLabel ? fontSize * 1.8 : 0) + Math.max(...yTickText.map((t) => t.length)) * charW + 8;
  const top = 8 + (opts.title ? fontSize * 2 : fontSize * 0.5);
  const legendW = 28 + Math.max(...series.map((s) => Array.from(s.name).length)) * charW + 8;
  const width = left + plotW + 16 + legendW;
  const height = Math.max(top + plotH + fontSize * 2 + (opts.xLabel ? fontSize * 1.8 : 0), top + series.length * fontSize * 1.6) + 8;
  const px = (x: number): number => left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const py = (y: number): number => top + plotH - ((fy(y) - fy(y0)) / (fy(y1) - fy(y0) || 1)) * plotH;

  const out: string[] = [svgOpen(width, height, fontSize, opts.standalone ?? true), `<rect width="100%" height="100%" fill="#fff"/>`];
  if (opts.title)
    out.push(
      `<text x="${coord(left)}" y="${coord(8 + fontSize * 1.2)}" font-size="${coord(fontSize * 1.25)}" font-weight="bold" fill="#222">${escapeXml(opts.title)}</text>`,
    );
  // grid and ticks
  out.push(`<g stroke="#e3e3e3" stroke-width="1">`);
  for (const t of xTicks) out.push(`<line x1="${coord(px(t))}" y1="${coord(top)}" x2="${coord(px(t))}" y2="${coord(top + plotH)}"/>`);
  for (const t of yTicks) out.push(`<line x1="${coord(left)}" y1="${coord(py(t))}" x2="${coord(left + plotW)}" y2="${coord(py(t))}"/>`);
  out.push("</g>", `<g fill="#222">`);
  for (const t of xTicks)
    out.push(
      `<text x="${coord(px(t))}" y="${coord(top + plotH + fontSize * 1.3)}" text-anchor="middle">${escapeXml(formatValue(t))}</text>`,
    );
  yTicks.forEach((t, i) =>
    out.push(
      `<text x="${coord(left - 6)}" y="${coord(py(t))}" text-anchor="end" dominant-baseline="central">${escapeXml(yTickText[i]!)}</text>`,
    ),
  );
  if (opts.xLabel)
    out.push(
      `<text x="${coord(left + plotW / 2)}" y="${coord(top + plotH + fontSize * 3)}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`,
    );
  if (opts.yLabel) {
    out.push(
      `<text transform="translate(${coord(8 + fontSize * 0.8)} ${coord(top + plotH / 2)}) rotate(-90)" text-anchor="middle" dominant-baseline="central">${escapeXml(opts.yLabel)}</text>`,
    );
  }
  out.push(
    "</g>",
    `<rect x="${coord(left)}" y="${coord(top)}" width="${coord(plotW)}" height="${coord(plotH)}" fill="none" stroke="#444"/>`,
  );

  // series: one path each, broken at unusable points; markers where points are few
  series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    // 8 colours x 6 dashes: the first 24 series differ in both or one
    const dash = DASHES[k % DASHES.length]!;
    let d = "";
    let pen = false;
    for (const p of s.points) {
      if (!usable(p)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${coord(px(p[0]))} ${coord(py(p[1]))}`;
      pen = true;
    }
    const dashAttr = dash === "" ? "" : ` stroke-dasharray="${dash}"`;
    out.push(`<g><title>${escapeXml(s.name)}</title>`);
    if (d !== "") out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.75"${dashAttr}/>`);
    if (opts.markers ?? s.points.length <= 30) {
      for (const p of s.points.filter(usable)) {
        out.push(
          `<circle cx="${coord(px(p[0]))}" cy="${coord(py(p[1]))}" r="2.5" fill="${color}"><title>${escapeXml(`${s.name}: ${formatValue(p[0])}, ${formatValue(p[1])}`)}</title></circle>`,
        );
      }
    }
    out.push("</g>");
    const ly = top + 6 + k * fontSize * 1.6;
    const lx = left + plotW + 16;
    out.push(
      `<line x1="${coord(lx)}" y1="${coord(ly)}" x2="${coord(lx + 22)}" y2="${coord(ly)}" stroke="${color}" stroke-width="1.75"${dashAttr}/>`,
      `<text x="${coord(lx + 28)}" y="${coord(ly)}" dominant-baseline="central" fill="#222">${escapeXml(s.name)}</text>`,
    );
  });
  out.push("</svg>", "");
  return out.join("\n");
}
