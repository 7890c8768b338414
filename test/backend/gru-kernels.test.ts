/**
 * native == ts for the GRU cell kernels: random (batch, hidden) shapes (fast-check, seeded) with
 * every combination of absent operands, on every instruction set the CPU has; one thread equals
 * several; float64 is routed to the ts kernels; short buffers are rejected before the addon.
 */
import fc from "fast-check";
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

/** Forward (with and without the saved buffer) and backward with every set of optional outputs. */
function compare(native: Kernels, batch: number, hidden: number, seed: number): void {
  const n = batch * hidden;
  const xp = random(3 * n, seed + 1, 6); // saturating and linear regions
  const hp = random(3 * n, seed + 2, 6);
  const h = random(n, seed + 3, 1);
  const run = (k: Kernels, save: boolean) => {
    const out = new Float32Array(n).fill(NaN);
    const saved = save ? new Float32Array(4 * n).fill(NaN) : null;
    k.gruCell(xp, hp, h, out, saved, batch, hidden);
    return { out, saved };
  };
  const a = run(native, true);
  const b = run(ts, true);
  const tag = `(${batch}, ${hidden})`;
  expectClose(a.out, b.out, `h' ${tag}`);
  expectClose(a.saved!, b.saved!, `saved ${tag}`);
  expect(Array.from(run(native, false).out)).toEqual(Array.from(a.out));
  const dOut = random(n, seed + 4, 1);
  for (const [withDhp, withDh] of [
    [true, true],
    [true, false],
    [false, true],
    [false, false],
  ] as const) {
    const grad = (k: Kernels) => {
      const dXp = new Float32Array(3 * n).fill(NaN); // outputs must be overwritten
      const dHp = withDhp ? new Float32Array(3 * n).fill(NaN) : null;
      const dH = withDh ? new Float32Array(n).fill(NaN) : null;
      k.gruCellGrad(b.saved!, h, dOut, dXp, dHp, dH, batch, hidden);
      return { dXp, dHp, dH };
    };
    const ga = grad(native);
    const gb = grad(ts);
    const what = `${tag} dHp ${withDhp} dH ${withDh}`;
    expectClose(ga.dXp, gb.dXp, `dXp ${what}`);
    if (withDhp) expectClose(ga.dHp!, gb.dHp!, `dHp ${what}`);
    if (withDh) expectClose(ga.dH!, gb.dH!, `dH ${what}`);
  }
}

describe.skipIf(!addon)("native gruCell kernels == ts", () => {
  const native = addon ? createNativeKernels(addon, ts) : ts;

  describeEachIsa(addon, () => {
    it("forward, saved buffer and backward on random shapes (property)", () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 1e6 }), (b, hd, seed) =>
          compare(native, b, hd, seed),
        ),
        { numRuns: 60, seed: 7 },
      );
    });
    it("threaded sizes", () => {
      compare(native, 32, 128, 11);
      compare(native, 257, 129, 12);
    });
  });

  it("gives the same results on 1 thread and on several", () => {
    const [batch, hidden] = [300, 257];
    const n = batch * hidden;
    const xp = random(3 * n, 91, 4);
    const hp = random(3 * n, 92, 4);
    const h = random(n, 93, 1);
    const outs = onOneAndSeveralThreads(addon, () => {
      const out = new Float32Array(n);
      const saved = new Float32Array(4 * n);
      addon.gruCell(xp, hp, h, out, saved, batch, hidden);
      const dXp = new Float32Array(3 * n);
      addon.gruCellGrad(saved, h, out, dXp, null, null, batch, hidden);
      return [...Array.from(out), ...Array.from(dXp)];
    });
    expect(outs[0]).toEqual(outs[1]);
  });

  it("routes float64 to the ts kernels", () => {
    const xp = Float64Array.from(random(6, 5, 3));
    const hp = Float64Array.from(random(6, 6, 3));
    const h = Float64Array.from(random(2, 7, 1));
    const o1 = new Float64Array(2);
    const o2 = new Float64Array(2);
    native.gruCell(xp, hp, h, o1, null, 1, 2);
    ts.gruCell(xp, hp, h, o2, null, 1, 2);
    expect(Array.from(o1)).toEqual(Array.from(o2));
  });

  it("rejects buffers shorter than the shape before calling the addon", () => {
    const f = (n: number): Float32Array => new Float32Array(n);
    expect(() => native.gruCell(f(5), f(6), f(2), f(2), null, 1, 2)).toThrow(BackendError);
    expect(() => native.gruCell(f(6), f(6), f(2), f(2), f(7), 1, 2)).toThrow(BackendError);
    expect(() => native.gruCellGrad(f(8), f(2), f(1), f(6), null, null, 1, 2)).toThrow(BackendError);
    expect(() => native.gruCellGrad(f(8), f(2), f(2), f(6), f(5), null, 1, 2)).toThrow(BackendError);
  });
});
