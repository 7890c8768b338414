// Line charts and learning curves: ticks, legend, scales, escaping, determinism, metrics.jsonl.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { lineChartSvg, niceTicks, type Series } from "../../src/viz/line-chart-svg.js";
import { metricsSeries, trainingCharts } from "../../src/viz/metrics-curves.js";
import { checkWellFormed } from "./helpers.js";

const accuracy: Series[] = ["lstm", "seq2seq", "transformer"].map((name, k) => ({
  name,
  points: [5, 10, 20, 40].map((len) => [len, Math.max(0, 1 - len / (20 * (k + 1)))] as const),
}));

describe("niceTicks", () => {
  it("covers the range with 1, 2 or 5 x 10^k steps", () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(5, 40)).toEqual([0, 10, 20, 30, 40]);
    expect(niceTicks(0.013, 0.071)).toEqual([0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08]);
    expect(niceTicks(-3, 7)).toEqual([-4, -2, 0, 2, 4, 6, 8]);
    expect(niceTicks(1, 3000)).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000]);
    expect(niceTicks(2, 2)).toEqual([1, 1.5, 2, 2.5, 3]);
  });
});

describe("lineChartSvg", () => {
  const svg = lineChartSvg(accuracy, { title: "exact match vs length", xLabel: "input length", yLabel: "exact match", yRange: [0, 1] });

  it("draws one line, a legend entry and markers per series, and axis titles", () => {
    checkWellFormed(svg);
    expect(svg.match(/<path d="M/g)).toHaveLength(3);
    for (const s of accuracy) expect(svg).toContain(`dominant-baseline="central" fill="#222">${s.name}</text>`);
    expect(svg.match(/<circle /g)).toHaveLength(12);
    expect(svg).toContain(">exact match vs length</text>");
    expect(svg).toContain(">input length</text>");
    expect(svg).toContain("rotate(-90)");
    // series differ in dash pattern too (greyscale prints)
    expect(svg.match(/stroke-dasharray="6 3"/g)).toHaveLength(2);
  });

  it("labels nice ticks on both axes", () => {
    for (const t of ["0", "0.2", "0.4", "0.6", "0.8", "1"])
      expect(svg).toMatch(new RegExp(`text-anchor="end" dominant-baseline="central">${t}</text>`));
    for (const t of ["0", "10", "20", "30", "40"]) expect(svg).toMatch(new RegExp(`text-anchor="middle">${t}</text>`));
  });

  it("is deterministic (pinned)", () => {
    expect(lineChartSvg(accuracy, { yRange: [0, 1] })).toBe(lineChartSvg(accuracy, { yRange: [0, 1] }));
    expect(createHash("sha256").update(svg).digest("hex")).toBe("de0f70b0b4af26f1af1e3e77565d33597c43f1a7cef5820b4f39cd4cc6f73fc6");
  });

  it("breaks lines at non-finite points and plots a log axis with powers of ten", () => {
    const gap = lineChartSvg([
      {
        name: "loss",
        points: [
          [0, 1],
          [1, Number.NaN],
          [2, 0.5],
          [3, 0.25],
        ],
      },
    ]);
    expect(/<path d="([^"]*)"/.exec(gap)![1]!.match(/M/g)).toHaveLength(2);
    const log = lineChartSvg(
      [
        {
          name: "loss",
          points: [
            [0, 2],
            [1, 0.05],
            [2, 0.004],
          ],
        },
      ],
      { yScale: "log" },
    );
    checkWellFormed(log);
    for (const t of ["0.001", "0.01", "0.1", "1", "10"]) expect(log).toContain(`dominant-baseline="central">${t}</text>`);
  });

  it("escapes names and titles, and rejects bad input", () => {
    const evil = lineChartSvg([{ name: `<b>"x"&`, points: [[0, 1]] }], { title: "</svg><script>" });
    checkWellFormed(evil);
    expect(evil).toContain("&lt;b&gt;&quot;x&quot;&amp;");
    expect(evil).not.toContain("<script>");
    expect(() => lineChartSvg([])).toThrow(/^lineChartSvg: expected at least one series/);
    expect(() => lineChartSvg([{ name: "a", points: [[0, Number.NaN]] }])).toThrow(/no finite points/);
    expect(() => lineChartSvg([{ name: "a", points: [[0, 0]] }], { yScale: "log" })).toThrow(/no finite positive points/);
    expect(() => lineChartSvg([{ name: "a", points: [[0, "1"]] as unknown as [number, number][] }])).toThrow(/not an \[x, y\] pair/);
  });

  it("draws a long run without exhausting the call stack", () => {
    const points = Array.from({ length: 150_000 }, (_, i) => [i, 1 / (1 + i)] as const);
    expect(lineChartSvg([{ name: "loss", points }], { markers: false }).length).toBeGreaterThan(1000);
  });
});

describe("learning curves from metrics.jsonl", () => {
  const log = [
    { step: 1, loss: 0.9, lr: 0.01, split: "train" },
    { step: 2, loss: 0.7, lr: 0.01, gradNorm: 3, split: "train" },
    { step: 2, split: "validation", loss: 0.8, accuracy: 0.5, exactMatch: 0.1 },
    { step: 3, event: "non-finite", error: "x" },
  ]
    .map((r) => JSON.stringify(r))
    .join("\n");

  it("turns every numeric field of every split into a series", () => {
    expect(metricsSeries(log + "\n\n")).toEqual([
      {
        name: "train loss",
        points: [
          [1, 0.9],
          [2, 0.7],
        ],
      },
      {
        name: "train lr",
        points: [
          [1, 0.01],
          [2, 0.01],
        ],
      },
      { name: "train gradNorm", points: [[2, 3]] },
      { name: "validation loss", points: [[2, 0.8]] },
      { name: "validation accuracy", points: [[2, 0.5]] },
      { name: "validation exactMatch", points: [[2, 0.1]] },
    ]);
    expect(() => metricsSeries('{"step":1}\nnot json')).toThrow(/^metricsSeries: line 2 is not JSON/);
  });

  it("makes a loss chart and a validation-metrics chart on [0, 1]", () => {
    const charts = trainingCharts(log);
    expect(charts.map((c) => c.name)).toEqual(["loss", "metrics"]);
    expect(charts[0]!.series.map((s) => s.name)).toEqual(["train loss", "validation loss"]);
    expect(charts[1]!.series.map((s) => s.name)).toEqual(["validation accuracy", "validation exactMatch"]);
    expect(charts[1]!.options.yRange).toEqual([0, 1]);
    expect(trainingCharts("")).toEqual([]);
  });
});
