/** Task configuration: defaults, unknown-key hints and integer range checks, with errors that name the task. */
import { ArgumentError } from "../core/errors.js";
import { didYouMean } from "../core/suggest.js";

/** Inclusive integer bounds for one setting. */
export type Bounds = readonly [min: number, max: number];

/**
 * `given` over `defaults`, each value an integer within its bounds. Keys the task does not know are
 * an error (with a suggestion), because a misspelt `maxLenght` silently ignored would train on the
 * wrong data.
 */
export function resolveConfig<C extends Record<string, number>>(
  task: string,
  given: Readonly<Record<string, unknown>>,
  defaults: C,
  bounds: { readonly [K in keyof C]: Bounds },
): C {
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    throw new ArgumentError(`${task}: config must be an object, got ${Array.isArray(given) ? "an array" : String(given)}`);
  }
  const keys = Object.keys(defaults);
  for (const key of Object.keys(given)) {
    if (!keys.includes(key))
      throw new ArgumentError(`${task}: unknown option "${key}"${didYouMean(key, keys)}; options are ${keys.join(", ")}`);
  }
  const out: Record<string, number> = {};
  for (const key of keys) {
    const value = given[key] ?? defaults[key];
    const [min, max] = bounds[key as keyof C];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new ArgumentError(`${task}: ${key} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
    }
    out[key] = value;
  }
  return out as C;
}

/** `min <= max` for a pair of range settings. */
export function checkRange(task: string, minKey: string, min: number, maxKey: string, max: number): void {
  if (min > max) throw new ArgumentError(`${task}: ${minKey} (${min}) must not exceed ${maxKey} (${max})`);
}

/** Seeds are any non-negative safe integer; all of it feeds the example hash. */
export const SEED_BOUNDS: Bounds = [0, Number.MAX_SAFE_INTEGER];
