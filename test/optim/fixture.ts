/** Loads the PyTorch reference fixture (scripts/gen-optim-fixtures.py) and builds optimizers from its configs. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as eg from "../../src/index.js";
import { Adagrad, Adam, AdamW, RMSprop, SGD, type Optimizer } from "../../src/optim/index.js";

export interface OptimizerCase {
  name: string;
  optimizer: "SGD" | "Adam" | "AdamW" | "RMSprop" | "Adagrad";
  options: Record<string, unknown>;
  groups: (Record<string, unknown> & { params: string[] })[] | null;
  trajectory: Record<string, number[]>[];
}

export interface ScheduleCase {
  name: string;
  schedule: string;
  options: Record<string, unknown>;
  baseLrs: number[];
  metrics?: (number | "NaN")[];
  lrs: number[][];
}

export interface Fixture {
  params: Record<string, { shape: number[]; values: number[] }>;
  grads: Record<string, number[] | null>[];
  optimizers: OptimizerCase[];
  schedules: ScheduleCase[];
  clipping: { normType: number | "Infinity"; maxNorm: number; total: number; grads: number[][] }[];
}

export const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, "..", "fixtures", "optim", "torch-optim.json"), "utf8"),
) as Fixture;

export function freshParams(): Record<string, eg.Tensor> {
  const out: Record<string, eg.Tensor> = {};
  for (const [name, p] of Object.entries(fixture.params))
    out[name] = eg.tensor(new Float32Array(p.values), { shape: p.shape, requiresGrad: true });
  return out;
}

/** Sets every parameter's gradient to the fixture's gradient of step `s` (null where the fixture has none). */
export function setGrads(params: Record<string, eg.Tensor>, s: number): void {
  for (const [name, p] of Object.entries(params)) {
    const g = fixture.grads[s]![name];
    p.grad = g ? eg.tensor(new Float32Array(g), { shape: p.shape }) : null;
  }
}

export function makeOptimizer(c: OptimizerCase, params: Record<string, eg.Tensor>): Optimizer {
  const spec = c.groups ? c.groups.map((g) => ({ ...g, params: g.params.map((n) => params[n]!) })) : Object.values(params);
  const ctors: Record<OptimizerCase["optimizer"], new (params: never, options: never) => Optimizer> = {
    SGD,
    Adam,
    AdamW,
    RMSprop,
    Adagrad,
  };
  return new ctors[c.optimizer](spec as never, c.options as never);
}
