/**
 * `engram compare <run...> --lengths 5,10,20`: length generalisation of several trained runs side by
 * side. Each run is scored at each length on its task's test split (evaluateByLength); the result is
 * a Markdown table and an SVG line chart of one metric against length, the form in which the docs
 * show that a fixed-vector encoder-decoder degrades with input length and attention does not.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ArgumentError } from "../core/errors.js";
import { didYouMean } from "../core/suggest.js";
import { evaluateByLength, type LengthRow } from "../train/length-generalisation.js";
import { lineChartSvg } from "../viz/line-chart-svg.js";
import { loadRun } from "./train.js";

export interface CompareFlags {
  /** Comma-separated lengths, e.g. "5,10,20,40". */
  lengths: string;
  /** The metric to tabulate and plot (default exactMatch). */
  metric?: string;
  /** Batches of 32 test examples per length (default 4). */
  batches?: number;
  /** Directory for compare.md and compare.svg (nothing is written without it). */
  out?: string;
  /** Chart title. */
  title?: string;
  /** Called after each run is scored (progress on long comparisons). */
  onRun?: (name: string) => void;
}

export interface CompareResult {
  /** Run label (directory name) -> one row per length. */
  runs: { name: string; model: string; rows: LengthRow[] }[];
  lengths: number[];
  metric: string;
  markdown: string;
  svg: string;
  files: string[];
}

/** "5,10,20" -> [5, 10, 20]; anything else is a usage error. */
export function parseLengths(list: string): number[] {
  const out = list.split(",").map((s) => s.trim());
  if (out.length === 0 || out.some((s) => !/^\d+$/.test(s) || Number(s) < 1)) {
    throw new ArgumentError(`compare: --lengths must be positive integers separated by commas (e.g. 5,10,20), got ${JSON.stringify(list)}`);
  }
  return out.map(Number);
}

export async function compareCommand(runs: readonly string[], flags: CompareFlags): Promise<CompareResult> {
  if (runs.length === 0) throw new ArgumentError("compare: give at least one run directory or checkpoint");
  const lengths = parseLengths(flags.lengths);
  const metric = flags.metric ?? "exactMatch";
  const scored: CompareResult["runs"] = [];
  for (const run of runs) {
    const loaded = await loadRun(run, "compare");
    if (!loaded.task.metricNames.includes(metric)) {
      throw new ArgumentError(
        `compare: ${run} (task ${loaded.task.name}) has no metric ${JSON.stringify(metric)}${didYouMean(metric, loaded.task.metricNames)}; ` +
          `its metrics are ${loaded.task.metricNames.join(", ")}`,
      );
    }
    const rows = evaluateByLength(loaded.model, loaded.task, lengths, { batches: flags.batches ?? 4 });
    const name = basename(run.replace(/[\\/]checkpoint\.safetensors$/, "").replace(/[\\/]+$/, ""));
    scored.push({ name, model: loaded.meta.model.name, rows });
    flags.onRun?.(name);
  }
  const markdown = table(scored, lengths, metric);
  const svg = lineChartSvg(
    scored.map((r) => ({ name: r.name, points: r.rows.map((row, i) => [lengths[i]!, row.metrics[metric]!] as const) })),
    { title: flags.title ?? `${metric} against input length`, xLabel: "input length", yLabel: metric, yRange: [0, 1] },
  );
  const files: string[] = [];
  if (flags.out !== undefined) {
    mkdirSync(flags.out, { recursive: true });
    for (const [file, text] of [
      ["compare.md", markdown],
      ["compare.svg", svg],
    ] as const) {
      writeFileSync(join(flags.out, file), text);
      files.push(join(flags.out, file));
    }
  }
  return { runs: scored, lengths, metric, markdown, svg, files };
}

/** Runs as rows, lengths as columns, the metric as a percentage. */
function table(runs: CompareResult["runs"], lengths: readonly number[], metric: string): string {
  const head = `| run (model) | ${lengths.map((l) => `L=${l}`).join(" | ")} |`;
  const rule = `|---|${lengths.map(() => "---:").join("|")}|`;
  const body = runs.map(
    (r) => `| ${r.name} (${r.model}) | ${r.rows.map((row) => `${(row.metrics[metric]! * 100).toFixed(1)}%`).join(" | ")} |`,
  );
  const examples = runs[0]?.rows[0]?.examples ?? 0;
  return [`${metric}, ${examples} test examples per length:`, "", head, rule, ...body, ""].join("\n");
}
