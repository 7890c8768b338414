// SVG heat maps: byte-identical output, escaped labels, labels/tooltips/colour bar, long sequences.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { COLORMAP, hex } from "../../src/viz/colormap.js";
import { heatmapSvg } from "../../src/viz/heatmap-svg.js";
import { checkWellFormed, weightMap } from "./helpers.js";

const sha = (s: string): string => createHash("sha256").update(s).digest("hex");

describe("heatmapSvg", () => {
  const tiny = weightMap(2, 3, { name: "decoder attention", values: Float32Array.of(0, 0.5, 1, 0.25, 0.75, 0.125) });

  it("is deterministic: the same map gives the same bytes (pinned)", () => {
    const svg = heatmapSvg(tiny);
    expect(heatmapSvg(weightMap(2, 3, { name: "decoder attention", values: Float32Array.from(tiny.values) }))).toBe(svg);
    // any change to the output format must update this hash on purpose
    expect(sha(svg)).toBe("ecb5750966c4348563689fe6ebaaa2d80464d6578e0741c422242e953d0b90dd");
  });

  it("is a well-formed standalone document; inline mode drops the namespace", () => {
    const svg = heatmapSvg(tiny);
    checkWellFormed(svg);
    expect(svg.startsWith(`<svg xmlns="http://www.w3.org/2000/svg" `)).toBe(true);
    const inline = heatmapSvg(tiny, { standalone: false });
    checkWellFormed(inline);
    expect(inline).not.toContain("http");
  });

  it("colours each cell by its value, with a tooltip naming row, column and value", () => {
    const svg = heatmapSvg(tiny);
    const rects = [
      ...svg.matchAll(/<rect x="(\d+)" y="(\d+)" width="1" height="1" fill="(#[0-9a-f]{6})"><title>([^<]*)<\/title><\/rect>/g),
    ];
    expect(rects).toHaveLength(6);
    expect(rects[0]!.slice(1, 4)).toEqual(["0", "0", hex(COLORMAP[0]!)]);
    expect(rects[2]!.slice(1, 4)).toEqual(["2", "0", hex(COLORMAP[255]!)]);
    expect(rects[1]![3]).toBe(hex(COLORMAP[128]!));
    expect(rects[4]![4]).toBe("output 1 &quot;r1&quot; → input 1 &quot;c1&quot;: 0.75");
  });

  it("draws rotated column labels, row labels, axis titles and a colour bar with min and max", () => {
    const svg = heatmapSvg(tiny);
    expect(svg.match(/rotate\(-90\)" dominant-baseline="central">c\d<\/text>/g)).toHaveLength(3);
    expect(svg.match(/text-anchor="end" dominant-baseline="central">r\d<\/text>/g)).toHaveLength(2);
    expect(svg).toContain(">output</text>");
    expect(svg).toContain(">input</text>");
    expect(svg).toContain(">max 1</text>");
    expect(svg).toContain(">min 0</text>");
    expect(svg).toContain(">decoder attention</text>");
  });

  it("escapes hostile labels, names and axes", () => {
    const evil = `<script>alert("x")</script>&'`;
    const svg = heatmapSvg(
      weightMap(2, 2, { name: evil, rowAxis: evil, colAxis: "a&b", rowLabels: [evil, `"quoted"`], colLabels: ["</svg>", "\u0007bell"] }),
    );
    checkWellFormed(svg);
    expect(svg).not.toContain("<script");
    expect(svg).not.toContain("</svg>\n<");
    expect(svg).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    expect(svg).toContain("a&amp;b");
    expect(svg).not.toContain("\u0007");
  });

  it("cuts long labels with an ellipsis but keeps them whole in tooltips", () => {
    const long = "a".repeat(40);
    const svg = heatmapSvg(weightMap(1, 1, { rowLabels: [long] }), { maxLabelChars: 10 });
    expect(svg).toContain(`>${"a".repeat(9)}…</text>`);
    expect(svg).toContain(`&quot;${long}&quot;`);
  });

  it("keeps a 1,200-token map small: capped grid, thinned labels with indices, merged runs, no per-cell tooltips", () => {
    const n = 1200;
    // attention on the diagonal: long runs of the same colour
    const values = new Float32Array(n * n);
    for (let i = 0; i < n; i++) values[i * n + i] = 1;
    const svg = heatmapSvg(weightMap(n, n, { values }));
    checkWellFormed(svg);
    expect(svg.length).toBeLessThan(400_000);
    expect(svg).not.toContain("<title>");
    expect(svg).toContain("scale(0.6667)");
    const rowLabels = svg.match(/text-anchor="end" dominant-baseline="central">\d+ r\d+<\/text>/g)!;
    expect(rowLabels.length).toBeGreaterThan(30);
    expect(rowLabels.length).toBeLessThan(n / 10);
    expect(svg).toContain(">0 r0</text>");
    const width = Number(/width="([\d.]+)"/.exec(svg)![1]);
    expect(width).toBeLessThan(1100);
    // every cell is covered exactly once by the merged runs
    let area = 0;
    for (const m of svg.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) area += Number(m[3]);
    expect(area).toBe(n * n);
  });

  it("does not repeat the index on thinned labels that are the index already (every 5th of 300)", () => {
    const n = 300;
    const svg = heatmapSvg(weightMap(n, n, { rowLabels: Array.from({ length: n }, (_, i) => String(i)) }));
    expect(svg).toContain(`text-anchor="end" dominant-baseline="central">5</text>`);
    expect(svg).not.toContain(`>5 5</text>`);
    expect(svg).toContain(`dominant-baseline="central">5 c5</text>`);
  });

  it("rejects a map whose values do not match its labels, naming it", () => {
    expect(() => heatmapSvg(weightMap(2, 2, { name: "bad", values: new Float32Array(3) }))).toThrow(
      /^heatmapSvg: weight map "bad" holds 3 values for 2 row labels x 2 column labels \(4\)/,
    );
  });
});
