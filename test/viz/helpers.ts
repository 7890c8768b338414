/** Weight maps for the viz tests, and a small XML well-formedness check for the SVG writers. */
import type { WeightMap } from "../../src/models/task-model.js";

/** A rows x cols map whose values are given row by row (default: i * cols + j). */
export function weightMap(rows: number, cols: number, fields: Partial<WeightMap> = {}): WeightMap {
  return {
    name: "attention",
    rowAxis: "output",
    colAxis: "input",
    rowLabels: Array.from({ length: rows }, (_, i) => `r${i}`),
    colLabels: Array.from({ length: cols }, (_, j) => `c${j}`),
    values: Float32Array.from({ length: rows * cols }, (_, k) => k),
    ...fields,
  };
}

/**
 * Throws unless `xml` is well formed as far as the writers' output goes: balanced tags, quoted
 * attributes, no "<" or bare "&" in text or attribute values.
 */
export function checkWellFormed(xml: string): void {
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^>]*\?>/, "");
  let pos = 0;
  const text = (s: string): void => {
    if (/&(?!(amp|lt|gt|quot|#39);)/.test(s)) throw new Error(`bare & in ${JSON.stringify(s.slice(0, 60))}`);
  };
  for (const m of body.matchAll(/<[^>]*>/g)) {
    const between = body.slice(pos, m.index);
    if (between.includes("<")) throw new Error(`stray < before ${m[0]}`);
    text(between);
    pos = m.index + m[0].length;
    const tag = m[0];
    const close = /^<\/([\w-]+)\s*>$/.exec(tag);
    if (close) {
      const open = stack.pop();
      if (open !== close[1]) throw new Error(`</${close[1]}> closes <${open}>`);
      continue;
    }
    const open = /^<([\w-]+)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>$/.exec(tag);
    if (!open) throw new Error(`malformed tag ${tag}`);
    for (const a of open[2]!.matchAll(/"([^"]*)"/g)) text(a[1]!);
    if (open[3] !== "/") stack.push(open[1]!);
  }
  text(body.slice(pos));
  if (stack.length > 0) throw new Error(`unclosed <${stack.join("> <")}>`);
}
