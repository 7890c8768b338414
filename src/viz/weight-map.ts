/**
 * Checks and groups the weight maps a model's `inspect` hands back, before any renderer sees them:
 * a renderer trusts that `values` holds rows x cols entries and that each axis has one label per
 * row or column.
 */
import { ArgumentError, EngramError } from "../core/errors.js";
import { didYouMean } from "../core/suggest.js";
import type { Inspection, WeightMap } from "../models/task-model.js";

/** Throws an EngramError naming the map when it is malformed (a model bug, not a usage error). */
export function checkWeightMap(op: string, map: WeightMap): void {
  const bad = (why: string): EngramError => new EngramError(`${op}: weight map ${JSON.stringify(map.name)} ${why}`);
  if (typeof map.name !== "string") throw new EngramError(`${op}: a weight map has no name`);
  if (!(map.values instanceof Float32Array)) throw bad("has no Float32Array of values");
  const labels: unknown[] = [map.rowLabels, map.colLabels];
  if (!labels.every((l) => Array.isArray(l))) throw bad("has no row or column labels");
  const rows = map.rowLabels.length;
  const cols = map.colLabels.length;
  if (rows === 0 || cols === 0) throw bad(`is empty (${rows} x ${cols})`);
  if (map.values.length !== rows * cols)
    throw bad(`holds ${map.values.length} values for ${rows} row labels x ${cols} column labels (${rows * cols})`);
  for (const key of ["layer", "head"] as const) {
    const v = map[key];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) throw bad(`has ${key} ${String(v)} (expected an integer >= 0)`);
  }
}

/** Checks every map of an inspection (and that there is at least one). */
export function checkInspection(op: string, inspection: Inspection): void {
  const maps: unknown = inspection.maps;
  if (!Array.isArray(maps) || inspection.maps.length === 0) throw new EngramError(`${op}: the model returned no weight maps`);
  for (const m of inspection.maps) checkWeightMap(op, m);
}

/**
 * The family a map belongs to: its name without "layer N" and "head N", so "encoder layer 1 head 2"
 * and "encoder layer 0 head 0" are both "encoder". The HTML report's selectors and the bertviz
 * export stack a family's maps by layer and head.
 */
export function mapGroup(map: WeightMap): string {
  if (map.layer === undefined && map.head === undefined) return map.name;
  const g = map.name
    .replace(/\b(layer|head)\s*\d+\b/gi, " ")
    .replace(/[\s,:;/-]+$/g, "")
    .replace(/^[\s,:;/-]+/g, "")
    .replace(/\s+/g, " ")
    .trim();
  return g === "" ? "attention" : g;
}

/**
 * The maps named `name`, or the family (`mapGroup`) of that name. An unknown name is a usage error
 * that lists the names there are.
 */
export function selectMaps(maps: readonly WeightMap[], name: string): WeightMap[] {
  const exact = maps.filter((m) => m.name === name);
  if (exact.length > 0) return exact;
  const family = maps.filter((m) => mapGroup(m) === name);
  if (family.length > 0) return family;
  const names = [...new Set([...maps.map(mapGroup), ...maps.map((m) => m.name)])];
  const shown = names.length > 12 ? [...names.slice(0, 12), "..."] : names;
  throw new ArgumentError(`viz: no weight map named ${JSON.stringify(name)}${didYouMean(name, names)}; maps are ${shown.join(", ")}`);
}
