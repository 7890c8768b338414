/**
 * native == ts for the fused optimizer updates, bit for bit: both compute in doubles and round p
 * and every state buffer to float32 once, in the same order. Several steps from fresh state on
 * sizes off the vector width and above the threading grain, every hyperparameter branch, special
 * values in the gradient; float64 and mixed element types are routed to the ts kernels; short
 * buffers are rejected before the addon.
 */
import { describe, expect, it } from "vitest";
import type { FloatArray, Kernels } from "../../src/backend/kernels.js";
import type { NativeAddon } from "../../src/backend/native/binding.js";
import { loadNative } from "../../src/backend/native/loader.js";
import { createNativeKernels } from "../../src/backend/native/native-kernels.js";
import { tsKernels } from "../../src/backend/ts/kernels.js";
import { BackendError } from "../../src/core/errors.js";
import { onOneAndSeveralThreads } from "../helpers/native-isa.js";
import { rng } from "../helpers/rng.js";

const loaded = loadNative();
const addon = loaded.addon as NativeAddon;
const ts = tsKernels;

const SIZES = [1, 7, 33, 1000, 100003];
const STEPS = 3;

function random(n: number, seed: number, scale: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}

/** Gradients with a few special values at the front (the rest random). */
function gradient(n: number, seed: number, specials: boolean): Float32Array {
  const g = random(n, seed, 2);
  if (specials) [NaN, Infinity, -Infinity, 0, -0, 1e-30, -3e38].forEach((v, i) => i < n && (g[i] = v));
  return g;
}

/** Same bits everywhere (NaN matches NaN; 0 and -0 differ). */
function expectSame(a: FloatArray, b: FloatArray, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i])))
      expect.fail(`${what}: index ${i}: native ${a[i]} vs ts ${b[i]}`);
  }
}

/** One optimizer configuration: its state buffers and one update step given (kernels, p, g, buffers, step). */
interface Case {
  name: string;
  buffers: (n: number) => (FloatArray | null)[];
  step: (k: Kernels, p: FloatArray, g: Float32Array, bufs: (FloatArray | null)[], step: number) => void;
}

const f32 = (n: number, fill = 0): Float32Array => new Float32Array(n).fill(fill);

const CASES: Case[] = [];

for (const [momentum, dampening, wd, nesterov] of [
  [0, 0, 0, false],
  [0, 0, 1e-2, false],
  [0.9, 0, 0, false],
  [0.9, 0.1, 5e-3, false],
  [0.9, 0, 1e-2, true],
] as const) {
  CASES.push({
    name: `sgd momentum ${momentum} dampening ${dampening} wd ${wd} nesterov ${nesterov}`,
    buffers: (n) => [momentum === 0 ? null : f32(n)],
    step: (k, p, g, [buf], s) => k.sgdUpdate(p, g, buf!, 0.05, momentum, dampening, wd, nesterov, s === 1),
  });
}

for (const [decoupled, wd, amsgrad] of [
  [false, 0, false],
  [false, 1e-2, false],
  [false, 1e-2, true],
  [true, 1e-2, false],
  [true, 0, true],
  [true, 0.1, true],
] as const) {
  const [beta1, beta2] = [0.9, 0.999];
  CASES.push({
    name: `adam decoupled ${decoupled} wd ${wd} amsgrad ${amsgrad}`,
    buffers: (n) => [f32(n), f32(n), amsgrad ? f32(n) : null],
    step: (k, p, g, [m, v, vmax], s) =>
      k.adamUpdate(p, g, m!, v!, vmax!, 1e-3, beta1, beta2, 1e-8, wd, decoupled, 1 - beta1 ** s, 1 - beta2 ** s),
  });
}

for (const [wd, centered, momentum] of [
  [0, false, 0],
  [1e-2, false, 0],
  [0, true, 0],
  [0, false, 0.9],
  [1e-2, true, 0.9],
] as const) {
  CASES.push({
    name: `rmsprop wd ${wd} centered ${centered} momentum ${momentum}`,
    buffers: (n) => [f32(n), centered ? f32(n) : null, momentum > 0 ? f32(n) : null],
    step: (k, p, g, [sq, avg, buf], _s) => k.rmspropUpdate(p, g, sq!, avg!, buf!, 1e-2, 0.99, 1e-8, wd, momentum),
  });
}

for (const [lrDecay, wd, init] of [
  [0, 0, 0],
  [1e-2, 0, 0.1],
  [0.5, 1e-2, 0],
] as const) {
  CASES.push({
    name: `adagrad lrDecay ${lrDecay} wd ${wd} initial ${init}`,
    buffers: (n) => [f32(n, init)],
    step: (k, p, g, [sum], s) => k.adagradUpdate(p, g, sum!, 1e-2, lrDecay, wd, 1e-10, s),
  });
}

/** STEPS updates of fresh state on both kernel tables; returns nothing, fails on the first differing bit. */
function compare(native: Kernels, c: Case, n: number, seed: number, specials: boolean): void {
  const p0 = random(n, seed, 1);
  const runs = [native, ts].map((k) => ({ k, p: p0.slice(), bufs: c.buffers(n) }));
  for (let s = 1; s <= STEPS; s++) {
    const g = gradient(n, seed * 31 + s, specials && s === 2);
    for (const r of runs) c.step(r.k, r.p, g, r.bufs, s);
    const [a, b] = runs;
    const what = `${c.name} n ${n} step ${s}`;
    expectSame(a!.p, b!.p, `${what}: parameter`);
    a!.bufs.forEach((buf, i) => buf && expectSame(buf, b!.bufs[i]!, `${what}: state ${i}`));
  }
}

describe.skipIf(!addon)("native optimizer updates == ts", () => {
  const native = addon ? createNativeKernels(addon, ts) : ts;

  for (const c of CASES) {
    it(c.name, () => {
      SIZES.forEach((n, i) => compare(native, c, n, 100 + i, false));
      compare(native, c, 1000, 7, true);
    });
  }

  describe("threads", () => {
    it("gives the same bits on 1 thread and on several", () => {
      const n = 300007;
      const results = onOneAndSeveralThreads(addon, () => {
        const p = random(n, 5, 1);
        const [m, v, vmax] = [f32(n), f32(n), f32(n)];
        for (let s = 1; s <= 2; s++)
          addon.adamUpdate(p, gradient(n, 6 + s, true), m, v, vmax, 1e-3, 0.9, 0.999, 1e-8, 0.01, true, 1 - 0.9 ** s, 1 - 0.999 ** s);
        return p;
      });
      expectSame(results[0], results[1], "adam on 1 vs several threads");
    });
  });

  it("routes float64 and mixed element types to the ts kernels", () => {
    const n = 33;
    const p64 = Float64Array.from(random(n, 1, 1));
    const g64 = Float64Array.from(random(n, 2, 1));
    const want = p64.slice();
    const wantM = new Float64Array(n);
    const wantV = new Float64Array(n);
    ts.adamUpdate(want, g64, wantM, wantV, null, 1e-3, 0.9, 0.999, 1e-8, 0, false, 0.1, 0.001);
    const got = p64.slice();
    native.adamUpdate(got, g64, new Float64Array(n), new Float64Array(n), null, 1e-3, 0.9, 0.999, 1e-8, 0, false, 0.1, 0.001);
    expectSame(got, want, "float64 adam");
    expect(want.some((x, i) => x !== p64[i])).toBe(true);

    // a float32 parameter with a float64 gradient
    const p = random(n, 3, 1);
    const q = p.slice();
    native.sgdUpdate(p, g64, null, 0.1, 0, 0, 0, false, true);
    ts.sgdUpdate(q, g64, null, 0.1, 0, 0, 0, false, true);
    expectSame(p, q, "sgd with a float64 gradient");
  });

  it("rejects short gradients and state buffers before the addon", () => {
    const p = f32(8);
    expect(() => native.sgdUpdate(p, f32(7), null, 0.1, 0, 0, 0, false, true)).toThrow(BackendError);
    expect(() => native.adamUpdate(p, f32(8), f32(8), f32(4), null, 1e-3, 0.9, 0.999, 1e-8, 0, false, 0.1, 0.001)).toThrow(
      /adamUpdate: state buffer holds 4 elements where 8 are needed/,
    );
    expect(() => native.rmspropUpdate(p, f32(8), f32(8), f32(2), null, 1e-2, 0.99, 1e-8, 0, 0)).toThrow(BackendError);
    expect(() => native.adagradUpdate(p, f32(8), f32(1), 1e-2, 0, 0, 1e-10, 1)).toThrow(BackendError);
    // the addon checks too (a wrong binding must not write past a buffer)
    expect(() => addon.adagradUpdate(p, f32(8), f32(1), 1e-2, 0, 0, 1e-10, 1)).toThrow(/shorter than the parameter/);
    expect(Array.from(p).every((x) => x === 0)).toBe(true);
  });
});
