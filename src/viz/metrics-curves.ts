/**
 * Learning curves from a run's metrics.jsonl (one JSON record per line, as the Trainer writes:
 * `{ step, split: "train", loss, lr, gradNorm? }` and `{ step, split: "validation", ...metrics }`).
 */
import { ArgumentError } from "../core/errors.js";
import type { LineChartOptions, Series } from "./line-chart-svg.js";

/** Every numeric field of every split as a series named "<split> <field>", in first-seen order. */
export function metricsSeries(jsonl: string): Series[] {
  const series = new Map<string, [number, number][]>();
  jsonl.split("\n").forEach((line, n) => {
    if (line.trim() === "") return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      throw new ArgumentError(`metricsSeries: line ${n + 1} is not JSON`);
    }
    if (rec === null || typeof rec !== "object" || Array.isArray(rec))
      throw new ArgumentError(`metricsSeries: line ${n + 1} is not an object`);
    const r = rec as Record<string, unknown>;
    // event records (a non-finite stop) carry no split and no values to plot
    if (typeof r.step !== "number" || typeof r.split !== "string") return;
    for (const [key, value] of Object.entries(r)) {
      if (key === "step" || typeof value !== "number") continue;
      const name = `${r.split} ${key}`;
      const points = series.get(name) ?? [];
      points.push([r.step, value]);
      series.set(name, points);
    }
  });
  return [...series].map(([name, points]) => ({ name, points }));
}

/** A chart to draw: its series and how (render with `lineChartSvg(series, options)`). */
export interface Chart {
  name: string;
  series: Series[];
  options: LineChartOptions;
}

/**
 * The charts a run's log supports: "loss" (every split's loss against step) and "metrics" (the
 * validation metrics other than loss, on [0, 1] when they all lie there). Empty when there is
 * nothing to draw.
 */
export function trainingCharts(jsonl: string): Chart[] {
  const all = metricsSeries(jsonl);
  const charts: Chart[] = [];
  const loss = all.filter((s) => s.name.endsWith(" loss"));
  if (loss.length > 0) charts.push({ name: "loss", series: loss, options: { title: "loss", xLabel: "step", yLabel: "loss" } });
  const metrics = all.filter((s) => s.name.startsWith("validation ") && !s.name.endsWith(" loss"));
  if (metrics.length > 0) {
    const unit = metrics.every((s) => s.points.every(([, y]) => !Number.isFinite(y) || (y >= 0 && y <= 1)));
    charts.push({
      name: "metrics",
      series: metrics,
      options: { title: "validation metrics", xLabel: "step", ...(unit ? { yRange: [0, 1] as const } : {}) },
    });
  }
  return charts;
}
