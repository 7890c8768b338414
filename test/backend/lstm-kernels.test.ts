/**
 * native == ts for the LSTM cell kernels: random (batch, hidden) shapes including 1, sizes off the
 * vector width and threaded sizes, every combination of absent operands, every instruction set
 * the CPU has; float64 is routed to the ts kernels; short buffers are rejected before the addon.
 */
import { describe, expect, it } from "vitest";
import type { Kernels } from "../../src/backend/kernels.js";
import type { NativeAddon } from "../../src/backend/native/binding.js";
import { loadNative } from "../../src/backend/native/loader.js";
import { createNativeKernels } from "../../src/backend/native/native-kernels.js";
import { tsKernels } from "../../src/backend/ts/kernels.js";
import { BackendError } from "../../src/core/errors.js";
import { describeEachIsa, onOneAndSeveralThreads } from "../helpers/native-isa.js";
import { rng } from "../helpers/rng.js";

const loaded = loadNative();
const addon = loaded.addon as NativeAddon;
const ts = tsKernels;

function random(n: number, seed: number, scale: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}

/** |a - b| <= atol + rtol |b| everywhere (float32 kernels with ~2 ulp transcendentals). */
function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string, atol = 2e-6, rtol = 2e-5): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - b[i]!);
    if (!(err <= atol + rtol * Math.abs(b[i]!))) expect.fail(`${what}: index ${i}: native ${a[i]} vs ts ${b[i]}`);
  }
}

const SHAPES: [number, number][] = [
  [1, 1],
  [1, 8],
  [3, 1],
  [2, 7],
  [5, 9],
  [4, 17],
  [32, 128],
  [64, 257],
  [0, 4],
];

function compareAll(native: Kernels): void {
  SHAPES.forEach(([batch, hidden], s) => {
    const n = batch * hidden;
    const gates = random(4 * n, s * 10 + 1, 6); // saturating and linear regions
    const c = random(n, s * 10 + 2, 3);
    const run = (k: Kernels, save: boolean) => {
      const h = new Float32Array(n);
      const cOut = new Float32Array(n);
      const saved = save ? new Float32Array(5 * n) : null;
      k.lstmCell(gates, c, h, cOut, saved, batch, hidden);
      return { h, cOut, saved };
    };
    const a = run(native, true);
    const b = run(ts, true);
    const tag = `(${batch}, ${hidden})`;
    expectClose(a.h, b.h, `h ${tag}`);
    expectClose(a.cOut, b.cOut, `c' ${tag}`);
    expectClose(a.saved!, b.saved!, `saved ${tag}`);
    const unsaved = run(native, false);
    expect(Array.from(unsaved.h)).toEqual(Array.from(a.h));
    expect(Array.from(unsaved.cOut)).toEqual(Array.from(a.cOut));

    const dH = random(n, s * 10 + 3, 1);
    const dCOut = random(n, s * 10 + 4, 1);
    for (const [withH, withC, withDc] of [
      [true, true, true],
      [true, false, true],
      [false, true, true],
      [false, false, true],
      [true, true, false],
    ] as const) {
      const grad = (k: Kernels) => {
        const dGates = new Float32Array(4 * n).fill(NaN); // outputs must be overwritten
        const dC = withDc ? new Float32Array(n).fill(NaN) : null;
        k.lstmCellGrad(b.saved!, c, withH ? dH : null, withC ? dCOut : null, dGates, dC, batch, hidden);
        return { dGates, dC };
      };
      const ga = grad(native);
      const gb = grad(ts);
      const what = `${tag} dH ${withH} dC' ${withC} dC ${withDc}`;
      expectClose(ga.dGates, gb.dGates, `dGates ${what}`);
      if (withDc) expectClose(ga.dC!, gb.dC!, `dC ${what}`);
      if (!withH && !withC) expect(Array.from(ga.dGates).every((v) => v === 0)).toBe(true);
    }
  });
}

describe.skipIf(!addon)("native lstmCell kernels == ts", () => {
  const native = addon ? createNativeKernels(addon, ts) : ts;

  describeEachIsa(addon, () => {
    it("forward, saved buffer and backward with every absent operand", () => compareAll(native));
  });

  it("gives the same results on 1 thread and on several", () => {
    // 300 rows of 4 x 257 gates make two pieces of at least a grain (kLstmGrain), so the split runs
    const [batch, hidden] = [300, 257];
    const n = batch * hidden;
    const gates = random(4 * n, 91, 4);
    const c = random(n, 92, 2);
    const outs = onOneAndSeveralThreads(addon, () => {
      const h = new Float32Array(n);
      const cOut = new Float32Array(n);
      addon.lstmCell(gates, c, h, cOut, null, batch, hidden);
      return Array.from(h);
    });
    expect(outs[0]).toEqual(outs[1]);
  });

  it("routes float64 to the ts kernels", () => {
    const gates = Float64Array.from(random(8, 5, 3));
    const c = Float64Array.from(random(2, 6, 1));
    const h1 = new Float64Array(2);
    const h2 = new Float64Array(2);
    native.lstmCell(gates, c, h1, new Float64Array(2), null, 1, 2);
    ts.lstmCell(gates, c, h2, new Float64Array(2), null, 1, 2);
    expect(Array.from(h1)).toEqual(Array.from(h2));
  });

  it("rejects buffers shorter than the shape before calling the addon", () => {
    const f = (n: number): Float32Array => new Float32Array(n);
    expect(() => native.lstmCell(f(7), f(2), f(2), f(2), null, 1, 2)).toThrow(BackendError);
    expect(() => native.lstmCell(f(8), f(2), f(2), f(2), f(9), 1, 2)).toThrow(BackendError);
    expect(() => native.lstmCellGrad(f(10), f(2), null, f(1), f(8), null, 1, 2)).toThrow(BackendError);
    expect(() => native.lstmCellGrad(f(10), f(2), f(2), null, f(7), f(2), 1, 2)).toThrow(BackendError);
  });
});
