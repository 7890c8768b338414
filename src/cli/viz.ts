/**
 * `engram viz`: what a trained model attends to or remembers on one example. Loads a checkpoint
 * (like `engram eval`), builds a one-example batch from text (`task.fromText`) or from the test
 * split, asks the model to `inspect` it, and writes the weight maps as SVG, PNG, an HTML report,
 * bertviz JSON, or prints them to the terminal.
 *
 * Loading and rendering are separate steps (`loadRun`, `runViz`), so the rendering path is
 * tested with any inspectable model, without the registry.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { noGrad } from "../autograd/engine.js";
import { ArgumentError } from "../core/errors.js";
import { didYouMean } from "../core/suggest.js";
import { isInspectable, type Inspection } from "../models/task-model.js";
import type { Batch, Task } from "../tasks/task.js";
import { bertvizJson } from "../viz/bertviz.js";
import { heatmapPng } from "../viz/heatmap-png.js";
import { heatmapSvg } from "../viz/heatmap-svg.js";
import { heatmapTerminal, type ColorMode } from "../viz/heatmap-terminal.js";
import { htmlReport } from "../viz/html-report.js";
import { lineChartSvg } from "../viz/line-chart-svg.js";
import { slug } from "../viz/markup.js";
import { trainingCharts, type Chart } from "../viz/metrics-curves.js";
import { checkInspection, selectMaps } from "../viz/weight-map.js";
import { loadRun, type LoadedModel } from "./train.js";

export type { LoadedModel } from "./train.js";

export const VIZ_FORMATS = ["svg", "png", "html", "terminal", "bertviz"] as const;
export type VizFormat = (typeof VIZ_FORMATS)[number];

export interface VizFlags {
  /** Text in the task's notation (token tasks with `fromText`). */
  input?: string;
  /** Example index in the test split (default 0 when there is no --input). */
  example?: number;
  /** Comma-separated formats (default "svg,html"). */
  format?: string;
  /** Output directory (default: viz/ next to the checkpoint). */
  out?: string;
  /** Only the map of this name, or the family of maps (e.g. "encoder" for every encoder layer and head). */
  map?: string;
  /** Terminal format: columns to fit and colour support. */
  width?: number;
  color?: ColorMode;
}

export interface VizResult {
  /** Files written, in writing order. */
  files: string[];
  /** What the terminal format prints ("" without it). */
  terminal: string;
  /** Things worth telling the user that did not stop the command (e.g. an unreadable metrics.jsonl). */
  notes: string[];
}

/** The formats of a --format list; unknown names are a usage error with a suggestion. */
export function parseFormats(list: string): VizFormat[] {
  const out: VizFormat[] = [];
  for (const raw of list.split(",")) {
    const f = raw.trim();
    if (!(VIZ_FORMATS as readonly string[]).includes(f)) {
      throw new ArgumentError(
        `viz: unknown format ${JSON.stringify(f)}${didYouMean(f, VIZ_FORMATS)}; formats are ${VIZ_FORMATS.join(", ")}`,
      );
    }
    if (!out.includes(f as VizFormat)) out.push(f as VizFormat);
  }
  return out;
}

/** The one-example batch to inspect: from --input text, or example N of the test split (flags checked by checkVizFlags). */
export function vizBatch(task: Task, flags: Pick<VizFlags, "input" | "example">): Batch {
  if (flags.input !== undefined) {
    if (task.fromText === undefined) {
      throw new ArgumentError(
        `viz: task ${task.name} (a ${task.kind} task) takes no text input; use --example N to show example N of its test split`,
      );
    }
    return task.fromText(flags.input);
  }
  return task.batch("test", 1, flags.example ?? 0);
}

export interface RenderOptions {
  formats: readonly VizFormat[];
  /** Where files go (created when missing); not needed for the terminal format alone. */
  outDir: string;
  /** Only this map or family of maps. */
  map?: string;
  title?: string;
  subtitle?: readonly string[];
  /** Learning curves for the HTML report and the SVG format. */
  charts?: readonly Chart[];
  width?: number;
  color?: ColorMode;
}

/**
 * Renders an inspection in every requested format: the part of `engram viz` after `inspect`.
 * Everything is rendered before the first file is written, so a format that cannot take these
 * maps (bertviz with two cross-attention families) fails without leaving half the files behind.
 */
export function renderViz(inspection: Inspection, opts: RenderOptions): Omit<VizResult, "notes"> {
  checkInspection("viz", inspection);
  const maps = opts.map !== undefined ? selectMaps(inspection.maps, opts.map) : [...inspection.maps];
  const digits = String(maps.length - 1).length;
  // names from the map's position and a slug: a model's map names can never reach outside outDir
  const fileName = (i: number, ext: string): string => `${String(i).padStart(digits, "0")}-${slug(maps[i]!.name)}.${ext}`;
  const outputs: [string, string | Uint8Array][] = [];
  let terminal = "";
  for (const format of opts.formats) {
    switch (format) {
      case "svg":
        maps.forEach((m, i) => outputs.push([fileName(i, "svg"), heatmapSvg(m)]));
        for (const c of opts.charts ?? []) outputs.push([`curves-${slug(c.name)}.svg`, lineChartSvg(c.series, c.options)]);
        break;
      case "png":
        maps.forEach((m, i) => outputs.push([fileName(i, "png"), heatmapPng(m)]));
        break;
      case "html": {
        const report = htmlReport(
          { ...inspection, maps },
          {
            ...(opts.title !== undefined ? { title: opts.title } : {}),
            ...(opts.subtitle ? { subtitle: opts.subtitle } : {}),
            ...(opts.charts ? { charts: opts.charts } : {}),
          },
        );
        outputs.push(["report.html", report]);
        break;
      }
      case "bertviz":
        outputs.push(["bertviz.json", bertvizJson(maps)]);
        break;
      case "terminal":
        terminal += maps.map((m) => heatmapTerminal(m, { width: opts.width ?? 80, color: opts.color ?? "none" })).join("\n");
        break;
    }
  }
  if (outputs.length > 0) mkdirSync(opts.outDir, { recursive: true });
  const files = outputs.map(([name, contents]) => {
    const path = join(opts.outDir, name);
    writeFileSync(path, contents);
    return path;
  });
  return { files, terminal };
}

/** The learning curves of the run a checkpoint belongs to, when its metrics.jsonl is there and readable. */
function runCharts(checkpointFile: string, notes: string[]): Chart[] {
  const log = join(dirname(checkpointFile), "metrics.jsonl");
  if (!existsSync(log)) return [];
  try {
    return trainingCharts(readFileSync(log, "utf8"));
  } catch (e) {
    // the maps are what was asked for; a damaged log only loses the curves
    notes.push(`curves left out: ${log}: ${(e as Error).message}`);
    return [];
  }
}

/** Checks the flags that need no checkpoint (usage errors come before any file is read); returns the formats. */
export function checkVizFlags(flags: VizFlags): VizFormat[] {
  const formats = parseFormats(flags.format ?? "svg,html");
  if (flags.input !== undefined && flags.example !== undefined) throw new ArgumentError("viz: give --input or --example, not both");
  if (flags.example !== undefined && !(Number.isSafeInteger(flags.example) && flags.example >= 0))
    throw new ArgumentError(`viz: --example must be an integer >= 0, got ${String(flags.example)}`);
  return formats;
}

/** `engram viz`: load, build the batch, inspect, render. `load` is replaceable for tests. */
export async function vizCommand(
  checkpoint: string,
  flags: VizFlags,
  load: (checkpoint: string) => Promise<LoadedModel> = (c) => loadRun(c, "viz"),
): Promise<VizResult> {
  checkVizFlags(flags);
  return runViz(await load(checkpoint), flags);
}

/** Everything after loading: checks the model can be inspected, inspects one example, renders. */
export function runViz(loaded: LoadedModel, flags: VizFlags): VizResult {
  const formats = checkVizFlags(flags);
  const { model, task, meta, path } = loaded;
  if (!isInspectable(model)) {
    throw new ArgumentError(
      `viz: model ${meta.model.name} (in ${path}) cannot show its weights: it has no attention or memory to inspect (no inspect method)`,
    );
  }
  const batch = vizBatch(task, flags);
  model.eval();
  const inspection = noGrad(() => model.inspect(batch));
  const notes: string[] = [];
  const charts = formats.includes("html") || formats.includes("svg") ? runCharts(path, notes) : [];
  const source = flags.input !== undefined ? `input ${JSON.stringify(flags.input)}` : `test example ${flags.example ?? 0}`;
  const rendered = renderViz(inspection, {
    formats,
    outDir: flags.out ?? join(dirname(path), "viz"),
    ...(flags.map !== undefined ? { map: flags.map } : {}),
    title: `${meta.model.name} on ${task.name}`,
    subtitle: [`checkpoint ${path}`, `step ${meta.step}, ${source}`],
    charts,
    ...(flags.width !== undefined ? { width: flags.width } : {}),
    ...(flags.color !== undefined ? { color: flags.color } : {}),
  });
  return { ...rendered, notes };
}
