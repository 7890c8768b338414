/**
 * The additive-score kernels (additiveScores / additiveScoresGrad): the ts kernels against values
 * written out from the definition (dq overwritten, dk and dv accumulated, absent outputs), and
 * native == ts on random shapes (fast-check, seeded) with every set of absent outputs, on every
 * instruction set the CPU has; one thread equals several; float64 is routed to the ts kernels;
 * short buffers are rejected before the addon.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Kernels } from "../../src/backend/kernels.js";
import { loadNative } from "../../src/backend/native/loader.js";
import { createNativeKernels } from "../../src/backend/native/native-kernels.js";
import { tsKernels } from "../../src/backend/ts/kernels.js";
import { BackendError } from "../../src/core/errors.js";
import { describeEachIsa, onOneAndSeveralThreads } from "../helpers/native-isa.js";
import { rng } from "../helpers/rng.js";

const loaded = loadNative();
const addon = loaded.addon;
const ts = tsKernels;

function random(n: number, seed: number, scale: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}

/** |a - b| <= atol + rtol |b| everywhere. */
function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string, atol: number, rtol = 2e-5): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - b[i]!);
    if (!(err <= atol + rtol * Math.abs(b[i]!))) expect.fail(`${what}: index ${i}: got ${a[i]} vs ${b[i]}`);
  }
}

describe("ts additive-score kernels", () => {
  // (B, T, S, H) = (2, 2, 3, 2), float64: every sum written out from the definition
  const [B, T, S, H] = [2, 2, 3, 2];
  const q = Float64Array.from({ length: B * T * H }, (_, i) => 0.3 * Math.sin(i + 1));
  const k = Float64Array.from({ length: B * S * H }, (_, i) => 0.7 * Math.cos(2 * i));
  const v = Float64Array.of(0.9, -1.3);
  const g = Float64Array.from({ length: B * T * S }, (_, i) => (i % 5) - 2);
  const th = (b: number, t: number, s: number, h: number): number => Math.tanh(q[(b * T + t) * H + h]! + k[(b * S + s) * H + h]!);

  it("forward: out[b,t,s] = sum_h v[h] tanh(q[b,t,h] + k[b,s,h]), out overwritten", () => {
    const out = new Float64Array(B * T * S).fill(NaN);
    ts.additiveScores(q, k, v, out, B, T, S, H);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        for (let s = 0; s < S; s++) expect(out[(b * T + t) * S + s]).toBeCloseTo(v[0]! * th(b, t, s, 0) + v[1]! * th(b, t, s, 1), 14);
  });

  it("backward: dq overwritten, dk and dv added to what they hold", () => {
    const dq = new Float64Array(B * T * H).fill(NaN);
    const dk = new Float64Array(B * S * H).fill(0.25);
    const dv = Float64Array.of(-1, 2);
    ts.additiveScoresGrad(q, k, v, g, dq, dk, dv, B, T, S, H);
    const wantDq = new Float64Array(B * T * H);
    const wantDk = new Float64Array(B * S * H).fill(0.25);
    const wantDv = Float64Array.of(-1, 2);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        for (let s = 0; s < S; s++)
          for (let h = 0; h < H; h++) {
            const y = th(b, t, s, h);
            const ds = g[(b * T + t) * S + s]!;
            const d = ds * v[h]! * (1 - y * y);
            wantDq[(b * T + t) * H + h] = wantDq[(b * T + t) * H + h]! + d;
            wantDk[(b * S + s) * H + h] = wantDk[(b * S + s) * H + h]! + d;
            wantDv[h] = wantDv[h]! + ds * y;
          }
    expectClose(dq, wantDq, "dq", 1e-14);
    expectClose(dk, wantDk, "dk", 1e-14);
    expectClose(dv, wantDv, "dv", 1e-14);
    // absent outputs: the others are unchanged
    const dk2 = new Float64Array(B * S * H).fill(0.25);
    ts.additiveScoresGrad(q, k, v, g, null, dk2, null, B, T, S, H);
    expect(Array.from(dk2)).toEqual(Array.from(dk));
  });

  it("empty sizes: zero scores and a zero dq", () => {
    const out = new Float64Array(3).fill(NaN);
    ts.additiveScores(new Float64Array(0), new Float64Array(0), new Float64Array(0), out, 1, 1, 3, 0);
    expect(Array.from(out)).toEqual([0, 0, 0]);
    const dq = new Float64Array(4).fill(NaN);
    ts.additiveScoresGrad(new Float64Array(4), new Float64Array(0), new Float64Array(2), new Float64Array(0), dq, null, null, 2, 1, 0, 2);
    expect(Array.from(dq)).toEqual([0, 0, 0, 0]);
  });
});

/** Forward, and the backward with every set of present outputs, native against ts. */
function compare(native: Kernels, b: number, t: number, s: number, h: number, seed: number): void {
  const q = random(b * t * h, seed + 1, 2.5); // saturating and linear regions of tanh
  const k = random(b * s * h, seed + 2, 2.5);
  const v = random(h, seed + 3, 1);
  const tag = `(${b}, ${t}, ${s}, ${h})`;
  const scores = (kern: Kernels): Float32Array => {
    const out = new Float32Array(b * t * s).fill(NaN); // must be overwritten
    kern.additiveScores(q, k, v, out, b, t, s, h);
    return out;
  };
  expectClose(scores(native), scores(ts), `scores ${tag}`, 2e-6 * Math.sqrt(h + 1));
  const g = random(b * t * s, seed + 4, 1);
  const dk0 = random(b * s * h, seed + 5, 1);
  const dv0 = random(h, seed + 6, 1);
  for (const [withDq, withDk, withDv] of [
    [true, true, true],
    [true, true, false],
    [true, false, true],
    [false, true, true],
    [false, false, false],
  ] as const) {
    const grad = (kern: Kernels) => {
      const dq = withDq ? new Float32Array(b * t * h).fill(NaN) : null;
      const dk = withDk ? dk0.slice() : null;
      const dv = withDv ? dv0.slice() : null;
      kern.additiveScoresGrad(q, k, v, g, dq, dk, dv, b, t, s, h);
      return { dq, dk, dv };
    };
    const ga = grad(native);
    const gb = grad(ts);
    const what = `${tag} dq ${withDq} dk ${withDk} dv ${withDv}`;
    if (withDq) expectClose(ga.dq!, gb.dq!, `dq ${what}`, 2e-6 * Math.sqrt(s + 1));
    if (withDk) expectClose(ga.dk!, gb.dk!, `dk ${what}`, 2e-6 * Math.sqrt(t + 1));
    if (withDv) expectClose(ga.dv!, gb.dv!, `dv ${what}`, 2e-6 * Math.sqrt(b * t * s + 1));
  }
}

describe.skipIf(!addon)("native additive-score kernels == ts", () => {
  const native = addon ? createNativeKernels(addon, ts) : ts;

  describeEachIsa(addon, () => {
    it("forward and backward on random shapes (property)", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 5 }),
          fc.integer({ min: 0, max: 4 }),
          fc.integer({ min: 0, max: 9 }),
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 0, max: 1e6 }),
          (b, t, s, h, seed) => compare(native, b, t, s, h, seed),
        ),
        { numRuns: 60, seed: 17 },
      );
    });
    it("the decoder's size and a threaded one", () => {
      compare(native, 32, 1, 30, 128, 21);
      compare(native, 40, 3, 33, 129, 22);
    });
  });

  it("gives the same results on 1 thread and on several", () => {
    const a = addon!;
    const [b, t, s, h] = [48, 2, 31, 130];
    const q = random(b * t * h, 91, 2);
    const k = random(b * s * h, 92, 2);
    const v = random(h, 93, 1);
    const g = random(b * t * s, 94, 1);
    const outs = onOneAndSeveralThreads(a, () => {
      const out = new Float32Array(b * t * s);
      a.additiveScores(q, k, v, out, b, t, s, h);
      const dq = new Float32Array(b * t * h);
      const dk = new Float32Array(b * s * h);
      const dv = new Float32Array(h);
      a.additiveScoresGrad(q, k, v, g, dq, dk, dv, b, t, s, h);
      return [...out, ...dq, ...dk, ...dv];
    });
    expect(outs[0]).toEqual(outs[1]);
  });

  it("routes float64 to the ts kernels", () => {
    const q = Float64Array.from(random(6, 5, 2));
    const k = Float64Array.from(random(9, 6, 2));
    const v = Float64Array.from(random(3, 7, 1));
    const o1 = new Float64Array(6);
    const o2 = new Float64Array(6);
    native.additiveScores(q, k, v, o1, 1, 2, 3, 3);
    ts.additiveScores(q, k, v, o2, 1, 2, 3, 3);
    expect(Array.from(o1)).toEqual(Array.from(o2));
  });

  it("rejects buffers shorter than the shape before calling the addon", () => {
    const f = (n: number): Float32Array => new Float32Array(n);
    // (B, T, S, H) = (1, 2, 3, 2): q 4, k 6, v 2, scores 6
    expect(() => native.additiveScores(f(3), f(6), f(2), f(6), 1, 2, 3, 2)).toThrow(BackendError);
    expect(() => native.additiveScores(f(4), f(6), f(2), f(5), 1, 2, 3, 2)).toThrow(BackendError);
    expect(() => native.additiveScoresGrad(f(4), f(5), f(2), f(6), null, null, null, 1, 2, 3, 2)).toThrow(BackendError);
    expect(() => native.additiveScoresGrad(f(4), f(6), f(2), f(6), null, f(6), f(1), 1, 2, 3, 2)).toThrow(BackendError);
  });
});
