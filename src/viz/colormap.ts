/**
 * The heat maps' colour scale: a viridis-like sequential map computed here in OKLab (Ottosson's
 * perceptual space), not a copied table. Lightness rises linearly from dark violet to light
 * yellow, so equal steps in value look like equal steps, the order survives greyscale printing
 * and colour-vision deficiencies, and hue turns violet -> teal -> yellow for extra separation.
 * Colours outside sRGB lose chroma (never lightness) until they fit.
 */

/** An sRGB colour, 0..255 per channel. */
export type Rgb = readonly [number, number, number];

/** Entries in the lookup table: values are quantised to this many levels. */
export const COLORMAP_SIZE = 256;

/** OKLab -> linear sRGB (Ottosson's published matrices). */
function oklabToLinear(L: number, a: number, b: number): [number, number, number] {
  const l = (L + 0.3963377774 * a + 0.2158037573 * b) ** 3;
  const m = (L - 0.1055613458 * a - 0.0638541728 * b) ** 3;
  const s = (L - 0.0894841775 * a - 1.291485548 * b) ** 3;
  return [
    4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
    -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
    -0.0041960863 * l - 0.7034186147 * m + 1.707614701 * s,
  ];
}

function inGamut(c: readonly number[]): boolean {
  return c.every((x) => x >= -1e-6 && x <= 1 + 1e-6);
}

/** Linear light -> 8-bit sRGB (the sRGB transfer curve). */
function encodeSrgb(x: number): number {
  const v = x <= 0.0031308 ? 12.92 * x : 1.055 * Math.pow(x, 1 / 2.4) - 0.055;
  return Math.round(Math.min(1, Math.max(0, v)) * 255);
}

/** The colour at t in [0, 1] along the path in OKLCH. */
function pathColor(t: number): Rgb {
  const L = 0.28 + 0.66 * t;
  // chroma dips in the teal middle and peaks at the yellow end, as in viridis
  const C = 0.13 - 0.18 * t + 0.24 * t * t;
  const hue = ((300 - 195 * t) * Math.PI) / 180;
  const at = (c: number): [number, number, number] => oklabToLinear(L, c * Math.cos(hue), c * Math.sin(hue));
  let lin = at(C);
  if (!inGamut(lin)) {
    // bisect the largest chroma that fits, keeping lightness and hue
    let lo = 0;
    let hi = C;
    for (let i = 0; i < 30; i++) {
      const mid = (lo + hi) / 2;
      if (inGamut(at(mid))) lo = mid;
      else hi = mid;
    }
    lin = at(lo);
  }
  return [encodeSrgb(lin[0]), encodeSrgb(lin[1]), encodeSrgb(lin[2])];
}

/** The lookup table, computed once: entry i is the colour at t = i / (COLORMAP_SIZE - 1). */
export const COLORMAP: readonly Rgb[] = Array.from({ length: COLORMAP_SIZE }, (_, i) => pathColor(i / (COLORMAP_SIZE - 1)));

/** The colour of cells whose value is NaN or infinite (masked or broken entries). */
export const MISSING_COLOR: Rgb = [128, 128, 128];

/** `#rrggbb`. */
export function hex(c: Rgb): string {
  return "#" + c.map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** The smallest and largest finite value (both 0 when there is none). */
export function finiteRange(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  // NaN fails both comparisons, so only infinities need excluding
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    min = Infinity;
    max = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min <= max ? { min, max } : { min: 0, max: 0 };
}

/**
 * The lookup-table index of `v` on the scale [min, max], or -1 for a non-finite value. A constant
 * map (min == max) gets index 0 everywhere.
 */
export function colorIndex(v: number, min: number, max: number): number {
  if (!Number.isFinite(v)) return -1;
  if (!(max > min)) return 0;
  const t = (v - min) / (max - min);
  return Math.min(COLORMAP_SIZE - 1, Math.max(0, Math.round(t * (COLORMAP_SIZE - 1))));
}

/** The colour of `v` on the scale [min, max]. */
export function colorOf(v: number, min: number, max: number): Rgb {
  const i = colorIndex(v, min, max);
  return i < 0 ? MISSING_COLOR : COLORMAP[i]!;
}
