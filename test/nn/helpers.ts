/** Shared helpers for the nn tests. */
import * as eg from "../../src/index.js";
import type { Module } from "../../src/nn/index.js";

/** Replaces the parameter at a dotted state-dict key (so gradcheck's input copies flow through the module). */
export function setParam(m: Module, key: string, t: eg.Tensor): void {
  const parts = key.split(".");
  let owner: unknown = m;
  for (const p of parts.slice(0, -1)) owner = (owner as Record<string, unknown>)[p];
  (owner as Record<string, unknown>)[parts[parts.length - 1]!] = t;
}

export function maxAbsDiff(a: eg.Tensor, b: eg.Tensor): number {
  expectShape(a, b.shape);
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

function expectShape(t: eg.Tensor, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`shape [${t.shape.join(", ")}] != [${shape.join(", ")}]`);
  }
}

/** Runs fn on the ts backend (gradient checks in float64 are defined there), restoring the previous backend. */
export function onTs<T>(fn: () => T): T {
  const prev = eg.getBackend();
  eg.setBackend("ts");
  try {
    return fn();
  } finally {
    eg.setBackend(prev);
  }
}
