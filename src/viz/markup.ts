/** Text helpers shared by the SVG and HTML writers: escaping, number formatting, label widths. */

const XML_ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Text safe inside XML/HTML element content and quoted attributes. Control characters other than
 * tab and newline are not allowed in XML 1.0 at all, so they become U+FFFD.
 */
export function escapeXml(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (XML_ESCAPES[ch] !== undefined) out += XML_ESCAPES[ch];
    else if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffe || c === 0xffff) out += "\ufffd";
    else out += ch;
  }
  return out;
}

/** A value for labels and tooltips: 4 significant digits, no exponent for ordinary magnitudes. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e6) return String(Number(v.toPrecision(4)));
  return v.toExponential(3);
}

/** A coordinate with at most 2 decimals (short output, identical on every platform). */
export function coord(x: number): string {
  return String(Math.round(x * 100) / 100);
}

/** `label` cut to `max` characters (code points), ending in an ellipsis when cut. */
export function truncate(label: string, max: number): string {
  const chars = Array.from(label);
  return chars.length <= max ? label : chars.slice(0, Math.max(0, max - 1)).join("") + "…";
}

/** Every `step`-th index of 0..n-1, spacing labels so that they never overlap (step >= 1). */
export function labelStep(cellSize: number, fontSize: number): number {
  return Math.max(1, Math.ceil((fontSize * 1.1) / cellSize));
}

/**
 * A file-name-safe slug: lowercase ASCII letters, digits and single dashes, at most 48 characters.
 * Map names come from models and may hold anything, so nothing else may reach a path.
 */
export function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/, "");
  return s === "" ? "map" : s;
}

/** Typeface of every chart: monospace, so label widths can be estimated from character counts. */
export const FONT_FAMILY = "ui-monospace, Menlo, Consolas, monospace";

/** Width of one character of FONT_FAMILY, as a fraction of the font size. */
export const CHAR_WIDTH = 0.62;

/**
 * The opening tag of an SVG document. A standalone file needs the SVG namespace; an SVG inlined in
 * HTML does not, and leaving it out keeps reports free of any URL.
 */
export function svgOpen(width: number, height: number, fontSize: number, standalone: boolean): string {
  const ns = standalone ? ` xmlns="http://www.w3.org/2000/svg"` : "";
  const w = coord(width);
  const h = coord(height);
  return `<svg${ns} width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="${FONT_FAMILY}" font-size="${fontSize}">`;
}
