/**
 * The native thread pool and the GEMM thread-count choice: a job's shares run on whichever thread
 * claims them (the caller takes the ones a worker has not), small jobs do not wake sleeping workers,
 * and OpenBLAS runs small products on one thread. None of this may change a result: every kernel
 * here must give the same bits on 1, 2 and 3 threads, with the workers asleep or awake, for both
 * GEMMs, and back-to-back jobs of mixed sizes must not mix up their shares.
 */
import { afterAll, describe, expect, it } from "vitest";
import { opCode, REDUCE_OPS, UNARY_OPS } from "../../src/backend/kernels.js";
import type { NativeAddon, NativeGemm } from "../../src/backend/native/binding.js";
import { loadNative } from "../../src/backend/native/loader.js";
import { rng } from "../helpers/rng.js";

const loaded = loadNative();
const addon = loaded.addon as NativeAddon;

const inputs = new Map<string, Float32Array>();
/** Uniform in [-1, 1), made once per (n, seed): the same inputs are used on every thread count. */
function random(n: number, seed: number): Float32Array {
  const key = `${n}/${seed}`;
  let x = inputs.get(key);
  if (!x) {
    const r = rng(seed);
    x = Float32Array.from({ length: n }, () => r() * 2 - 1);
    inputs.set(key, x);
  }
  return x;
}

/** The first index at which the arrays differ bit for bit, -1 if none (toEqual is far too slow at these sizes). */
function firstDifference(a: Float32Array[], b: Float32Array[]): string | undefined {
  if (a.length !== b.length) return `${a.length} arrays, expected ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = new Uint32Array(a[i]!.buffer, a[i]!.byteOffset, a[i]!.length);
    const y = new Uint32Array(b[i]!.buffer, b[i]!.byteOffset, b[i]!.length);
    if (x.length !== y.length) return `array ${i}: length ${x.length}, expected ${y.length}`;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return `array ${i}, element ${j}: ${a[i]![j]} != ${b[i]![j]}`;
  }
  return undefined;
}

/** Sleeps the calling thread (the pool's workers go to sleep after ~0.1 ms without a job). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

interface Product {
  m: number;
  n: number;
  k: number;
  batch?: number;
  ta?: boolean;
  tb?: boolean;
}

/** Products from this many multiply-adds up may run on several OpenBLAS threads, which changes their rounding. */
const BLAS_THREADED_MIN = 192 ** 3;

// below and above the built-in GEMM's split (48^3 per thread), its wake-up bound (64 x 48^3) and
// the OpenBLAS one-thread bound (192^3); NTM, MemN2N and seq2seq step shapes; batches
const PRODUCTS: Product[] = [
  { m: 16, n: 400, k: 120 },
  { m: 16, n: 120, k: 400 },
  { m: 32, n: 384, k: 128, tb: true },
  { m: 384, n: 256, k: 32, ta: true },
  { m: 656, n: 400, k: 120 },
  { m: 200, n: 200, k: 200 },
  { m: 260, n: 300, k: 150, ta: true, tb: true },
  { m: 1, n: 3000, k: 300 },
  { m: 64, n: 64, k: 64, batch: 12 },
];

function matmul(p: Product, seed: number): Float32Array {
  const batch = p.batch ?? 1;
  const a = random(batch * p.m * p.k, seed);
  const b = random(batch * p.k * p.n, seed + 1);
  const out = new Float32Array(batch * p.m * p.n);
  addon.matmul(a, b, out, batch, p.m, p.n, p.k, p.ta ?? false, p.tb ?? false, p.m * p.k, p.k * p.n);
  return out;
}

const TANH = opCode(UNARY_OPS, "tanh");
const SUM = opCode(REDUCE_OPS, "sum");

/** Elementwise, reduction and softmax jobs below and above the wake-up bound (64 grains of 32768). */
function others(seed: number): Float32Array[] {
  const outs: Float32Array[] = [];
  for (const n of [40_000, 300_000, 2_500_000]) {
    const x = random(n, seed + n);
    const y = new Float32Array(n);
    addon.unary(TANH, x, y, 0, 0);
    outs.push(y);
  }
  for (const [outer, n, inner] of [
    [300, 700, 1],
    [20, 500, 400],
  ] as const) {
    const x = random(outer * n * inner, seed + outer);
    const out = new Float32Array(outer * inner);
    addon.reduce(SUM, x, out, outer, n, inner);
    outs.push(out);
  }
  const x = random(3000 * 400, seed + 9);
  const sm = new Float32Array(x.length);
  addon.softmax(x, sm, 3000, 400, false);
  outs.push(sm);
  return outs;
}

function all(seed: number): Float32Array[] {
  return [...PRODUCTS.map((p, i) => matmul(p, seed + 10 * i)), ...others(seed)];
}

function pick(a: Float32Array[], b: Float32Array[], keep: boolean[]): [Float32Array[], Float32Array[]] {
  return [a.filter((_, i) => keep[i]), b.filter((_, i) => keep[i])];
}

function gemms(): NativeGemm[] {
  return addon.info().openblas ? ["builtin", "openblas"] : ["builtin"];
}

describe.skipIf(!addon)("native thread pool", { timeout: 60_000 }, () => {
  const initial = addon ? addon.info() : undefined;
  afterAll(() => {
    if (!initial) return;
    addon.setThreads(initial.threads);
    addon.setGemm(initial.blas);
  });

  for (const gemm of gemms()) {
    it(`gives the same bits on 1, 2 and 3 threads, workers asleep or awake (${gemm} GEMM)`, () => {
      addon.setGemm(gemm);
      addon.setThreads(1);
      const reference = all(1);
      // OpenBLAS splits large products differently on more threads; smaller ones it must run on one
      const comparable = reference.map(
        (_, i) => gemm === "builtin" || i >= PRODUCTS.length || PRODUCTS[i]!.m * PRODUCTS[i]!.n * PRODUCTS[i]!.k < BLAS_THREADED_MIN,
      );
      expect(comparable.filter((c) => !c).length).toBe(gemm === "builtin" ? 0 : 3);
      for (const threads of [2, 3]) {
        expect(addon.setThreads(threads)).toBe(threads);
        // back to back: workers woken by the large jobs are still awake for the small ones
        const awake = all(1);
        expect(firstDifference(...pick(awake, reference, comparable))).toBeUndefined();
        // every job after a pause: the small ones find the workers asleep and run on the caller
        const asleep = PRODUCTS.map((p, i) => {
          pause(2);
          return matmul(p, 1 + 10 * i);
        });
        expect(firstDifference(asleep, awake.slice(0, PRODUCTS.length))).toBeUndefined();
      }
    });
  }

  it("keeps the shares of back-to-back jobs of mixed sizes apart", () => {
    addon.setGemm("builtin");
    addon.setThreads(1);
    const small = matmul(PRODUCTS[0]!, 5);
    const large = matmul(PRODUCTS[4]!, 6);
    const x = random(3_000_000, 7);
    const tanh1 = new Float32Array(x.length);
    addon.unary(TANH, x, tanh1, 0, 0);
    addon.setThreads(2);
    const y = new Float32Array(x.length);
    for (let i = 0; i < 300; i++) {
      if (i % 50 === 0) {
        addon.unary(TANH, x, y, 0, 0);
        expect(firstDifference([matmul(PRODUCTS[4]!, 6), y], [large, tanh1])).toBeUndefined();
      }
      expect(firstDifference([matmul(PRODUCTS[0]!, 5)], [small])).toBeUndefined();
    }
  });

  it("survives resizing between jobs", () => {
    addon.setGemm("builtin");
    addon.setThreads(1);
    const reference = matmul(PRODUCTS[4]!, 3);
    for (const threads of [2, 3, 1, 2, 4, 2]) {
      expect(addon.setThreads(threads)).toBe(threads);
      expect(firstDifference([matmul(PRODUCTS[4]!, 3)], [reference])).toBeUndefined();
    }
  });
});
