/**
 * A weight map in the terminal: one text line per row, a block character per cell coloured with
 * ANSI 24-bit colour (or the nearest of the 256-colour palette), row labels on the left, column
 * labels written vertically above, everything cut to the terminal's width. With NO_COLOR set (or
 * output that is not a terminal) cells become shading characters ( ░▒▓█), readable anywhere.
 */
import type { WeightMap } from "../models/task-model.js";
import { colorIndex, COLORMAP, COLORMAP_SIZE, finiteRange, type Rgb } from "./colormap.js";
import { formatValue, truncate } from "./markup.js";
import { checkWeightMap } from "./weight-map.js";

export type ColorMode = "truecolor" | "256" | "none";

export interface HeatmapTerminalOptions {
  /** Terminal columns to fit (default 80). */
  width?: number;
  /** Colour support (default "truecolor"); see `terminalColorMode`. */
  color?: ColorMode;
  /** Row label width in characters (default: the longest label, at most 12). */
  maxLabelChars?: number;
  /** Lines of vertical column labels (default 4). */
  colLabelLines?: number;
}

const SHADES = [" ", "░", "▒", "▓", "█"];
const RESET = "\x1b[0m";

/**
 * The colour mode for an output stream: none when NO_COLOR is set to anything non-empty (see
 * no-color.org) or the stream is not a terminal; truecolor when COLORTERM says so; else 256.
 */
export function terminalColorMode(env: Readonly<Record<string, string | undefined>>, isTTY: boolean): ColorMode {
  if ((env.NO_COLOR ?? "") !== "" || !isTTY) return "none";
  const ct = (env.COLORTERM ?? "").toLowerCase();
  return ct === "truecolor" || ct === "24bit" ? "truecolor" : "256";
}

const CUBE = [0, 95, 135, 175, 215, 255];

/** The xterm-256 palette index nearest to `c`: the 6x6x6 colour cube or the 24-step grey ramp. */
export function ansi256(c: Rgb): number {
  const nearestLevel = (x: number): number => {
    let best = 0;
    for (let i = 1; i < 6; i++) if (Math.abs(CUBE[i]! - x) < Math.abs(CUBE[best]! - x)) best = i;
    return best;
  };
  const [r, g, b] = c.map(nearestLevel) as [number, number, number];
  const cube: Rgb = [CUBE[r]!, CUBE[g]!, CUBE[b]!];
  const mean = (c[0] + c[1] + c[2]) / 3;
  const greyStep = Math.min(23, Math.max(0, Math.round((mean - 8) / 10)));
  const grey = 8 + 10 * greyStep;
  const dist = (p: Rgb): number => (p[0] - c[0]) ** 2 + (p[1] - c[1]) ** 2 + (p[2] - c[2]) ** 2;
  return dist([grey, grey, grey]) < dist(cube) ? 232 + greyStep : 16 + 36 * r + 6 * g + b;
}

function paint(text: string, c: Rgb, mode: ColorMode): string {
  if (mode === "truecolor") return `\x1b[38;2;${c[0]};${c[1]};${c[2]}m${text}${RESET}`;
  if (mode === "256") return `\x1b[38;5;${ansi256(c)}m${text}${RESET}`;
  return text;
}

/**
 * `s` with control characters shown as U+FFFD: a label holding an escape sequence must not be able
 * to move the cursor, clear the screen or retitle the terminal.
 */
function printable(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    out += c < 0x20 || (c >= 0x7f && c <= 0x9f) ? "\ufffd" : ch;
  }
  return out;
}

/** One cell: a coloured block, or a shading character when there is no colour. */
function cellText(index: number, cellWidth: number, mode: ColorMode): string {
  if (index < 0) return "?".repeat(cellWidth);
  if (mode === "none") return SHADES[Math.round((index / (COLORMAP_SIZE - 1)) * (SHADES.length - 1))]!.repeat(cellWidth);
  return paint("█".repeat(cellWidth), COLORMAP[index]!, mode);
}

/** The map as terminal lines (joined with newlines, ending in one). */
export function heatmapTerminal(map: WeightMap, opts: HeatmapTerminalOptions = {}): string {
  checkWeightMap("heatmapTerminal", map);
  const mode = opts.color ?? "truecolor";
  const width = Math.max(20, opts.width ?? 80);
  const rows = map.rowLabels.length;
  const cols = map.colLabels.length;
  const rowLabels = map.rowLabels.map(printable);
  const colLabels = map.colLabels.map(printable);
  const labelW = Math.min(
    opts.maxLabelChars ?? 12,
    rowLabels.reduce((n, l) => Math.max(n, Array.from(l).length), 1),
    Math.floor(width / 3),
  );
  const room = width - labelW - 1;
  // two characters per cell look square in most fonts; one when that is the only way to fit
  const cellWidth = cols * 2 <= room ? 2 : 1;
  const shownCols = Math.min(cols, Math.floor(room / cellWidth));
  const cut = shownCols < cols;
  const { min, max } = finiteRange(map.values);
  const lines: string[] = [printable(`${map.name}  (${map.rowAxis} x ${map.colAxis}, ${rows} x ${cols})`)];
  const labelLines = Math.max(0, opts.colLabelLines ?? 4);
  // labels written downwards; when one is too long for the lines, every column shows its index instead
  const fits = colLabels.slice(0, shownCols).every((l) => Array.from(l).length <= labelLines);
  const heads = fits ? colLabels : colLabels.map((_, j) => String(j));
  for (let k = 0; k < labelLines; k++) {
    let line = " ".repeat(labelW + 1);
    let any = false;
    for (let j = 0; j < shownCols; j++) {
      const ch = Array.from(heads[j]!)[k];
      any ||= ch !== undefined;
      line += (ch ?? " ").padEnd(cellWidth);
    }
    if (any) lines.push(line.trimEnd());
  }
  for (let i = 0; i < rows; i++) {
    const label = truncate(rowLabels[i]!, labelW);
    let line = label + " ".repeat(labelW - Array.from(label).length) + " ";
    for (let j = 0; j < shownCols; j++) line += cellText(colorIndex(map.values[i * cols + j]!, min, max), cellWidth, mode);
    lines.push(line);
  }
  const legend = [0, 64, 128, 191, 255].map((k) => cellText(k, 1, mode)).join("");
  lines.push(`min ${formatValue(min)} ${legend} max ${formatValue(max)}`);
  if (cut) lines.push(`(first ${shownCols} of ${cols} columns shown)`);
  return lines.join("\n") + "\n";
}
