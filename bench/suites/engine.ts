/**
 * The engine suite: GEMM, elementwise bandwidth, an Adam step and per-op overhead, Engram (native with
 * OpenBLAS, native with the built-in GEMM, ts) against TF.js wasm (in-process), OpenBLAS called
 * from C and PyTorch (child processes), all in one run.
 */
import os from "node:os";
import { measure, measuredRow, perOp, skippedRow, type Measurement, type Row, type Workload } from "../harness.js";
import { runOpenblasPeer } from "../peers/openblas.js";
import { loadTfjsWasm, type TfjsWasm } from "../peers/tfjs-wasm.js";
import { describeTorch, runTorchPeer, type TorchRequest } from "../peers/torch.js";
import type { Suite, SuiteContext, SuiteResult } from "../suite.js";

type Engram = typeof import("../../src/index.js");
type EgTensor = ReturnType<Engram["randn"]>;

const GEMM_SIZES = [64, 128, 256, 512, 1024, 2048];
const QUICK_GEMM_SIZES = [64, 256];
/** The ts backend is the portable reference (scalar loops): above this it takes minutes. */
const TS_GEMM_MAX = 512;
const ELEMENTWISE_OPS = ["add", "mul", "exp", "softmax"] as const;
const ELEMENTWISE_SIZES = [1e6, 1e7];
const QUICK_ELEMENTWISE_SIZES = [1e6];
const SOFTMAX_ROW = 1000;
/** Parameters of the optimizer-step workload (one tensor, so the fused update itself is timed). */
const ADAM_PARAMS = 1e6;
const ADAM_LR = 1e-3;
/** Per-op overhead: ops per chain; the same call with 0 ops measures the fixed part subtracted. */
const OVERHEAD_CHAIN = 1000;
const QUICK_OVERHEAD_CHAIN = 50;

type ElementwiseOp = (typeof ELEMENTWISE_OPS)[number];
type OverheadName = "add-fwdbwd" | "add-fwd";

type Spec =
  | { kind: "gemm"; n: number; w: Workload; contenders: string[] }
  | { kind: "elementwise"; op: ElementwiseOp; n: number; w: Workload; contenders: string[] }
  | { kind: "optimizer"; n: number; w: Workload; contenders: string[] }
  | { kind: "overhead"; name: OverheadName; chain: number; w: Workload; contenders: string[] };

const GROUP_GEMM = "GEMM: float32 C = A·B, square n x n (GFLOP/s = 2n³ / time)";
const GROUP_ELEMENTWISE = "Elementwise: float32 (GB/s = bytes read + written / time; reference: memcpy of the same traffic)";
const GROUP_OPTIMIZER =
  "Optimizer step: float32 Adam, defaults, one parameter (GB/s = p, grad and both moments read + p and moments written / time)";
const GROUP_OVERHEAD = "Per-op overhead: 1x8 float32 (time per op)";

const CONTENDER_DESCRIPTIONS: Record<string, string> = {
  "engram-native-openblas": "Engram, native backend, GEMM through OpenBLAS (setNativeGemm('openblas'))",
  "engram-native-builtin": "Engram, native backend, built-in blocked SIMD GEMM (setNativeGemm('builtin'))",
  "engram-native": "Engram, native backend (N-API addon)",
  "engram-ts": "Engram, ts backend (portable TypeScript kernels)",
  "tfjs-wasm": "TF.js (tfjs-core + tfjs-backend-wasm) in this process",
  "openblas-c": "cblas_sgemm called from C (bench/peers/openblas-gemm.c): the practical limit",
  pytorch: "PyTorch CPU (bench/peers/torch_engine.py)",
  "memcpy-js": "TypedArray.prototype.set of the same traffic into a preallocated buffer, this process",
  "memcpy-c": "C memcpy of the same traffic (bench/peers/openblas-gemm.c)",
};

function formatCount(n: number): string {
  const exp = Math.log10(n);
  return Number.isInteger(exp) ? `1e${exp}` : String(n);
}

/** Bytes read + written by one call (float32). Softmax counts one read and one write (the minimum). */
function elementwiseBytes(op: ElementwiseOp, n: number): number {
  return op === "add" || op === "mul" ? 12 * n : 8 * n;
}

/**
 * Every workload of the suite with its contenders in display order (pure; --only applied: a
 * workload with any selected contender also keeps its reference, so ratios stay defined).
 */
export function engineSpecs(quick: boolean, selected: (workload: string, contender: string) => boolean): Spec[] {
  const specs: Spec[] = [];
  const keep = (w: Workload, all: string[]): string[] => {
    const chosen = all.filter((c) => selected(w.name, c));
    if (chosen.length > 0 && !chosen.includes(w.reference)) chosen.unshift(w.reference);
    return all.filter((c) => chosen.includes(c));
  };
  for (const n of quick ? QUICK_GEMM_SIZES : GEMM_SIZES) {
    const targets = n >= 512 ? { "engram-native-openblas": { minRatio: 0.9 }, "engram-native-builtin": { minRatio: 0.5 } } : undefined;
    const w: Workload = {
      name: `gemm ${n}x${n}x${n} f32`,
      group: GROUP_GEMM,
      reference: "openblas-c",
      params: { n, dtype: "float32" },
      flops: 2 * n ** 3,
    };
    if (targets) w.targets = targets;
    const contenders = keep(w, ["openblas-c", "engram-native-openblas", "engram-native-builtin", "engram-ts", "tfjs-wasm", "pytorch"]);
    if (contenders.length > 0) specs.push({ kind: "gemm", n, w, contenders });
  }
  for (const n of quick ? QUICK_ELEMENTWISE_SIZES : ELEMENTWISE_SIZES) {
    for (const op of ELEMENTWISE_OPS) {
      const bytes = elementwiseBytes(op, n);
      const params: Record<string, unknown> = { op, n, dtype: "float32", bytes, memcpy_bytes: bytes / 2 };
      if (op === "softmax") Object.assign(params, { shape: [n / SOFTMAX_ROW, SOFTMAX_ROW], axis: -1 });
      const shape = op === "softmax" ? ` [${n / SOFTMAX_ROW} x ${SOFTMAX_ROW}], last axis` : "";
      const w: Workload = {
        name: `${op} ${formatCount(n)} f32${shape}`,
        group: GROUP_ELEMENTWISE,
        reference: "memcpy-js",
        params,
        bytes,
        targets: { "engram-native": { minRatio: 0.5 } },
      };
      const contenders = keep(w, ["memcpy-js", "memcpy-c", "engram-native", "engram-ts", "tfjs-wasm", "pytorch"]);
      if (contenders.length > 0) specs.push({ kind: "elementwise", op, n, w, contenders });
    }
  }
  {
    const n = ADAM_PARAMS;
    const bytes = 28 * n;
    const w: Workload = {
      name: `adam update ${formatCount(n)} params`,
      group: GROUP_OPTIMIZER,
      reference: "pytorch",
      params: { optimizer: "adam", n, dtype: "float32", lr: ADAM_LR, bytes },
      bytes,
    };
    const contenders = keep(w, ["pytorch", "engram-native", "engram-ts"]);
    if (contenders.length > 0) specs.push({ kind: "optimizer", n, w, contenders });
  }
  const chain = quick ? QUICK_OVERHEAD_CHAIN : OVERHEAD_CHAIN;
  const overheads: { name: OverheadName; title: string; contenders: string[] }[] = [
    { name: "add-fwdbwd", title: "add 1x8 forward + backward, per op", contenders: ["pytorch", "engram-native", "engram-ts"] },
    {
      name: "add-fwd",
      title: "add 1x8 forward only (no grad), per op",
      contenders: ["pytorch", "engram-native", "engram-ts", "tfjs-wasm"],
    },
  ];
  for (const o of overheads) {
    const w: Workload = {
      name: o.title,
      group: GROUP_OVERHEAD,
      reference: "pytorch",
      params: { op: "add", shape: [1, 8], chain },
    };
    if (o.name === "add-fwdbwd") w.targets = { "engram-native": { maxUs: 2 } };
    const contenders = keep(w, o.contenders);
    if (contenders.length > 0) specs.push({ kind: "overhead", name: o.name, chain, w, contenders });
  }
  return specs;
}

// ---------------------------------------------------------------------------------------------
// Result checks: a broken kernel must not show up as a fast one.

/** Largest error of 16 sampled entries of C = A·B, relative to sum |a_ik b_kj| (float64 reference). */
export function gemmSampleError(a: ArrayLike<number>, b: ArrayLike<number>, c: ArrayLike<number>, n: number): number {
  let worst = 0;
  for (let s = 0; s < 16; s++) {
    const i = (s * 7919) % n;
    const j = (s * 104729 + 13) % n;
    let dot = 0;
    let scale = 0;
    for (let k = 0; k < n; k++) {
      const p = a[i * n + k]! * b[k * n + j]!;
      dot += p;
      scale += Math.abs(p);
    }
    worst = Math.max(worst, Math.abs(c[i * n + j]! - dot) / (scale || 1));
  }
  return worst;
}

export function elementwiseSampleError(
  op: ElementwiseOp,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  out: ArrayLike<number>,
  n: number,
): number {
  let worst = 0;
  for (let s = 0; s < 16; s++) {
    const idx = (s * 7919 * 1009) % n;
    let expected: number;
    if (op === "add") expected = a[idx]! + b[idx]!;
    else if (op === "mul") expected = a[idx]! * b[idx]!;
    else if (op === "exp") expected = Math.exp(a[idx]!);
    else {
      const row = idx - (idx % SOFTMAX_ROW);
      let max = -Infinity;
      for (let k = 0; k < SOFTMAX_ROW; k++) max = Math.max(max, a[row + k]!);
      let sum = 0;
      for (let k = 0; k < SOFTMAX_ROW; k++) sum += Math.exp(a[row + k]! - max);
      expected = Math.exp(a[idx]! - max) / sum;
    }
    worst = Math.max(worst, Math.abs(out[idx]! - expected) / Math.max(Math.abs(expected), 1e-30));
  }
  return worst;
}

/**
 * Largest error of 16 sampled entries after Adam's first step from fresh state, where the update is
 * lr g / (|g| + eps) (the bias-corrected moments are g and g²), relative to lr.
 */
export function adamFirstStepError(
  before: ArrayLike<number>,
  grad: ArrayLike<number>,
  after: ArrayLike<number>,
  n: number,
  lr: number,
): number {
  let worst = 0;
  for (let s = 0; s < 16; s++) {
    const i = (s * 7919 * 1009) % n;
    const expected = before[i]! - (lr * grad[i]!) / (Math.abs(grad[i]!) + 1e-8);
    worst = Math.max(worst, Math.abs(after[i]! - expected) / lr);
  }
  return worst;
}

const GEMM_TOLERANCE = 1e-4;
const ELEMENTWISE_TOLERANCE = 1e-4;
/** float32 rounding of parameters of size ~4 is ~5e-4 lr; a wrong update is off by ~lr. */
const ADAM_TOLERANCE = 1e-2;

function checkExtras(error: number, tolerance: number): { note?: string; params: Record<string, unknown> } {
  const params = { check_error: Number(error.toPrecision(3)) };
  return error <= tolerance ? { params } : { note: `WRONG RESULT: sampled relative error ${error.toExponential(1)}`, params };
}

// ---------------------------------------------------------------------------------------------

class Results {
  private readonly rows = new Map<string, Row>();
  put(row: Row): void {
    this.rows.set(`${row.workload}\u0000${row.contender}`, row);
  }
  ordered(specs: readonly Spec[]): Row[] {
    return specs.flatMap((s) =>
      s.contenders.map((c) => this.rows.get(`${s.w.name}\u0000${c}`) ?? skippedRow(s.w, c, "not run (internal error: no result recorded)")),
    );
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message.split("\n")[0]! : String(err);
}

function timingParams(m: Measurement): Record<string, unknown> {
  return { iterations: m.iterations, repeats: m.repeats, min_ms: Number(m.minMs.toPrecision(6)), max_ms: Number(m.maxMs.toPrecision(6)) };
}

/** Switches Engram to a contender's configuration; returns a skip reason when it cannot. */
function useEngram(eg: Engram, contender: string): string | undefined {
  const info = eg.backendInfo();
  if (contender === "engram-ts") {
    eg.setBackend("ts");
    return undefined;
  }
  if (!info.nativeAvailable) return `native backend unavailable: ${info.nativeError ?? "no reason given"}`;
  eg.setBackend("native");
  if (contender === "engram-native-openblas") {
    if (!info.native?.openblas) return `native addon built without OpenBLAS (GEMM kernel: ${info.native?.gemmKernel ?? "?"})`;
    eg.setNativeGemm("openblas");
  } else if (contender === "engram-native-builtin") {
    eg.setNativeGemm("builtin");
  }
  return undefined;
}

/** Back to the library's default configuration (native with OpenBLAS when available). */
function resetEngram(eg: Engram): void {
  const info = eg.backendInfo();
  if (!info.nativeAvailable) return;
  eg.setBackend("native");
  if (info.native?.openblas) eg.setNativeGemm("openblas");
}

interface Context {
  ctx: SuiteContext;
  results: Results;
  notes: string[];
  contenders: Record<string, Record<string, unknown>>;
}

interface ChainTiming {
  perOpMs: number;
  note: string;
  params: Record<string, unknown>;
}

/** What each call does besides the chained ops (measured with 0 ops and subtracted). */
const FIXED_PART: Record<OverheadName, string> = {
  "add-fwdbwd": "sum() + backward",
  "add-fwd": "no-grad/tidy scope",
};

/** Per-op time from call times with 0 and `n` chained ops. */
function chainTiming(name: OverheadName, n: number, fixedMs: number, chainMs: number): ChainTiming {
  return {
    perOpMs: perOp(fixedMs, chainMs, n),
    note: `(T(${n} ops) - T(0)) / ${n}; T(0) = ${FIXED_PART[name]} = ${(fixedMs * 1000).toFixed(1)} µs/call, subtracted`,
    params: { fixed_us: Number((fixedMs * 1000).toPrecision(4)), chain_call_ms: Number(chainMs.toPrecision(6)) },
  };
}

/** Times a call with 0 and with `n` chained ops (both warmed first, so the JIT state is the same). */
function measureChain(ctx: SuiteContext, name: OverheadName, chain: (n: number) => void, n: number): ChainTiming {
  const warmUntil = performance.now() + ctx.timing.warmupMs;
  while (performance.now() < warmUntil) {
    chain(0);
    chain(n);
  }
  const fixed = measure(() => chain(0), ctx.timing);
  const full = measure(() => chain(n), ctx.timing);
  return chainTiming(name, n, fixed.medianMs, full.medianMs);
}

function runEngram(eg: Engram, c: Context, specs: readonly Spec[]): void {
  const { ctx, results } = c;
  for (const spec of specs) {
    for (const contender of spec.contenders.filter((x) => x.startsWith("engram-"))) {
      const w = spec.w;
      if (spec.kind === "gemm" && contender === "engram-ts" && spec.n > TS_GEMM_MAX) {
        results.put(skippedRow(w, contender, `not run above n=${TS_GEMM_MAX} (portable scalar kernels; minutes per call)`));
        continue;
      }
      ctx.log(`${w.name}: ${contender}`);
      try {
        const skip = useEngram(eg, contender);
        if (skip !== undefined) {
          results.put(skippedRow(w, contender, skip));
          continue;
        }
        // What the native backend reports it is using, after the switch (verifies setNativeGemm).
        const native = contender.startsWith("engram-native") ? eg.backendInfo().native : undefined;
        const kernel = native ? { gemm: native.blas, isa: native.gemmKernel, threads: native.threads } : {};
        results.put(engramRow(eg, ctx, spec, contender, kernel));
      } catch (err) {
        results.put(skippedRow(w, contender, `error: ${errorMessage(err)}`));
      } finally {
        try {
          resetEngram(eg);
        } catch (err) {
          c.notes.push(`could not restore Engram's default backend after ${contender}: ${errorMessage(err)}`);
        }
      }
    }
  }
}

function engramRow(eg: Engram, ctx: SuiteContext, spec: Spec, contender: string, extraParams: Record<string, unknown>): Row {
  const w = spec.w;
  eg.manualSeed(0);
  if (spec.kind === "gemm") {
    const a = eg.randn([spec.n, spec.n]);
    const b = eg.randn([spec.n, spec.n]);
    const check = checkExtras(gemmSampleError(a.data, b.data, eg.matmul(a, b).data, spec.n), GEMM_TOLERANCE);
    const m = measure(() => eg.matmul(a, b), ctx.timing);
    return measuredRow(w, contender, m.medianMs, { ...check, params: { ...check.params, ...extraParams, ...timingParams(m) } });
  }
  if (spec.kind === "elementwise") {
    const shape = spec.op === "softmax" ? [spec.n / SOFTMAX_ROW, SOFTMAX_ROW] : [spec.n];
    const a = eg.randn(shape);
    const b = eg.randn(shape);
    const fns: Record<ElementwiseOp, () => EgTensor> = {
      add: () => eg.add(a, b),
      mul: () => eg.mul(a, b),
      exp: () => eg.exp(a),
      softmax: () => eg.softmax(a, -1),
    };
    const fn = fns[spec.op];
    const check = checkExtras(elementwiseSampleError(spec.op, a.data, b.data, fn().data, spec.n), ELEMENTWISE_TOLERANCE);
    const m = measure(fn, ctx.timing);
    return measuredRow(w, contender, m.medianMs, { ...check, params: { ...check.params, ...extraParams, ...timingParams(m) } });
  }
  if (spec.kind === "optimizer") {
    const p = eg.randn([spec.n]);
    const grad = eg.randn([spec.n]);
    p.grad = grad;
    const before = p.data.slice();
    const opt = new eg.optim.Adam([p], { lr: ADAM_LR });
    opt.step();
    const check = checkExtras(adamFirstStepError(before, grad.data, p.data, spec.n, ADAM_LR), ADAM_TOLERANCE);
    const m = measure(() => opt.step(), ctx.timing);
    return measuredRow(w, contender, m.medianMs, { ...check, params: { ...check.params, ...extraParams, ...timingParams(m) } });
  }
  const x = eg.randn([1, 8]);
  x.requiresGrad = true;
  const cst = eg.randn([1, 8]);
  const chain =
    spec.name === "add-fwdbwd"
      ? (n: number): void => {
          let y = x;
          for (let i = 0; i < n; i++) y = eg.add(y, cst);
          y.sum().backward();
          x.grad = null;
        }
      : (n: number): void =>
          eg.noGrad(() => {
            let y = x;
            for (let i = 0; i < n; i++) y = eg.add(y, cst);
          });
  const t = measureChain(ctx, spec.name, chain, spec.chain);
  return measuredRow(w, contender, t.perOpMs, { note: t.note, params: { ...t.params, ...extraParams } });
}

function runTfjs(tfw: TfjsWasm, c: Context, specs: readonly Spec[]): void {
  const { tf } = tfw;
  const { ctx, results } = c;
  for (const spec of specs) {
    if (!spec.contenders.includes("tfjs-wasm")) continue;
    const w = spec.w;
    ctx.log(`${w.name}: tfjs-wasm`);
    const made: { dispose(): void }[] = [];
    const keep = <T extends { dispose(): void }>(t: T): T => {
      made.push(t);
      return t;
    };
    try {
      if (spec.kind === "gemm") {
        const a = keep(tf.randomNormal([spec.n, spec.n], 0, 1, "float32", 1));
        const b = keep(tf.randomNormal([spec.n, spec.n], 0, 1, "float32", 2));
        const out = keep(tf.matMul(a, b));
        const check = checkExtras(gemmSampleError(a.dataSync(), b.dataSync(), out.dataSync(), spec.n), GEMM_TOLERANCE);
        // The wasm kernels run synchronously inside the op call; dispose frees the output in the wasm heap.
        const m = measure(() => tf.matMul(a, b).dispose(), ctx.timing);
        results.put(measuredRow(w, "tfjs-wasm", m.medianMs, { ...check, params: { ...check.params, ...timingParams(m) } }));
      } else if (spec.kind === "elementwise") {
        const shape = spec.op === "softmax" ? [spec.n / SOFTMAX_ROW, SOFTMAX_ROW] : [spec.n];
        const a = keep(tf.randomNormal(shape, 0, 1, "float32", 1));
        const b = keep(tf.randomNormal(shape, 0, 1, "float32", 2));
        const op = { add: () => tf.add(a, b), mul: () => tf.mul(a, b), exp: () => tf.exp(a), softmax: () => tf.softmax(a) }[spec.op];
        const out = keep(op());
        const check = checkExtras(
          elementwiseSampleError(spec.op, a.dataSync(), b.dataSync(), out.dataSync(), spec.n),
          ELEMENTWISE_TOLERANCE,
        );
        const m = measure(() => op().dispose(), ctx.timing);
        results.put(measuredRow(w, "tfjs-wasm", m.medianMs, { ...check, params: { ...check.params, ...timingParams(m) } }));
      } else if (spec.kind === "overhead") {
        const x = keep(tf.randomNormal([1, 8]));
        const cst = keep(tf.randomNormal([1, 8]));
        const chain = (n: number): void =>
          tf.tidy(() => {
            let y = x;
            for (let i = 0; i < n; i++) y = tf.add(y, cst);
          });
        const t = measureChain(ctx, spec.name, chain, spec.chain);
        results.put(measuredRow(w, "tfjs-wasm", t.perOpMs, { note: t.note, params: t.params }));
      }
    } catch (err) {
      results.put(skippedRow(w, "tfjs-wasm", `error: ${errorMessage(err)}`));
    } finally {
      for (const t of made) t.dispose();
    }
  }
}

function runMemcpyJs(c: Context, specs: readonly Spec[]): void {
  for (const spec of specs) {
    if (spec.kind !== "elementwise" || !spec.contenders.includes("memcpy-js")) continue;
    c.ctx.log(`${spec.w.name}: memcpy-js`);
    // Copying half the op's traffic reads + writes exactly the op's bytes.
    const floats = elementwiseBytes(spec.op, spec.n) / 2 / 4;
    const src = new Float32Array(floats).fill(1);
    const dst = new Float32Array(floats);
    const m = measure(() => dst.set(src), c.ctx.timing);
    c.results.put(measuredRow(spec.w, "memcpy-js", m.medianMs, { params: timingParams(m) }));
  }
}

async function runOpenblasC(c: Context, specs: readonly Spec[]): Promise<void> {
  const gemm = specs.filter((s) => s.kind === "gemm" && s.contenders.includes("openblas-c"));
  const copies = specs.filter(
    (s): s is Extract<Spec, { kind: "elementwise" }> => s.kind === "elementwise" && s.contenders.includes("memcpy-c"),
  );
  if (gemm.length === 0 && copies.length === 0) return;
  c.ctx.log("openblas-c: compiling and running bench/peers/openblas-gemm.c");
  const copyBytes = (s: Extract<Spec, { kind: "elementwise" }>): number => elementwiseBytes(s.op, s.n) / 2;
  const res = await runOpenblasPeer({
    gemmSizes: gemm.map((s) => (s.kind === "gemm" ? s.n : 0)),
    memcpyBytes: [...new Set(copies.map(copyBytes))],
    timing: c.ctx.timing,
  });
  const all = [...gemm.map((s) => ({ s, contender: "openblas-c" })), ...copies.map((s) => ({ s, contender: "memcpy-c" }))];
  if (!res.ok) {
    for (const { s, contender } of all) c.results.put(skippedRow(s.w, contender, res.reason));
    c.notes.push(`openblas-c / memcpy-c skipped: ${res.reason}`);
    return;
  }
  const { info, rows } = res.value;
  c.contenders["openblas-c"] = { ...info, compile: res.compile };
  c.contenders["memcpy-c"] = { compile: res.compile };
  c.notes.push(`openblas-c: ${info.config}, core ${info.corename}, ${info.threads} threads; built with: ${res.compile ?? "?"}`);
  for (const { s, contender } of all) {
    const found = rows.find((r) =>
      s.kind === "gemm" ? r.op === "gemm" && r.n === s.n : s.kind === "elementwise" && r.op === "memcpy" && r.bytes === copyBytes(s),
    );
    c.results.put(
      found
        ? measuredRow(s.w, contender, found.median_ms, { params: { iterations: found.iterations, repeats: found.repeats } })
        : skippedRow(s.w, contender, "peer returned no row"),
    );
  }
}

async function runTorch(c: Context, specs: readonly Spec[], threads: number): Promise<void> {
  const mine = specs.filter((s) => s.contenders.includes("pytorch"));
  if (mine.length === 0) return;
  c.ctx.log("pytorch: running bench/peers/torch_engine.py");
  const gemm: number[] = [];
  const elementwise: { op: string; n: number }[] = [];
  const overhead: { name: string; n: number }[] = [];
  const optimizer: { name: string; n: number }[] = [];
  for (const s of mine) {
    if (s.kind === "gemm") gemm.push(s.n);
    else if (s.kind === "elementwise") elementwise.push({ op: s.op, n: s.n });
    else if (s.kind === "optimizer") optimizer.push({ name: "adam", n: s.n });
    else overhead.push({ name: s.name, n: 0 }, { name: s.name, n: s.chain });
  }
  const req: TorchRequest = { timing: c.ctx.timing, threads, gemm, elementwise, overhead, optimizer };
  const res = await runTorchPeer("./torch_engine.py", req);
  if (!res.ok) {
    for (const s of mine) c.results.put(skippedRow(s.w, "pytorch", res.reason));
    c.notes.push(`pytorch skipped: ${res.reason}`);
    return;
  }
  const { info, rows } = res.value;
  c.contenders["pytorch"] = info;
  c.notes.push(describeTorch(info));
  const torchNote = info.uses_openblas ? undefined : "not OpenBLAS";
  for (const s of mine) {
    if (s.kind === "overhead") {
      const fixed = rows.find((r) => r.kind === "overhead" && r.name === s.name && r.n === 0);
      const full = rows.find((r) => r.kind === "overhead" && r.name === s.name && r.n === s.chain);
      if (!fixed || !full) {
        c.results.put(skippedRow(s.w, "pytorch", "peer returned no row"));
        continue;
      }
      const t = chainTiming(s.name, s.chain, fixed.median_ms, full.median_ms);
      c.results.put(measuredRow(s.w, "pytorch", t.perOpMs, { note: t.note, params: t.params }));
      continue;
    }
    const found = rows.find((r) =>
      s.kind === "gemm"
        ? r.kind === "gemm" && r.n === s.n
        : s.kind === "optimizer"
          ? r.kind === "optimizer" && r.n === s.n
          : r.kind === "elementwise" && r.op === s.op && r.n === s.n,
    );
    if (!found) {
      c.results.put(skippedRow(s.w, "pytorch", "peer returned no row"));
      continue;
    }
    const extras = { params: { iterations: found.iterations, repeats: found.repeats, threads: info.threads } };
    c.results.put(measuredRow(s.w, "pytorch", found.median_ms, s.kind === "gemm" && torchNote ? { ...extras, note: torchNote } : extras));
  }
}

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const specs = engineSpecs(ctx.quick, (workload, contender) => ctx.selected(workload, contender));
  const c: Context = { ctx, results: new Results(), notes: [], contenders: {} };
  const wants = (prefix: string): boolean => specs.some((s) => s.contenders.some((x) => x.startsWith(prefix)));

  let threads = os.availableParallelism();
  if (wants("engram-")) {
    let eg: Engram | undefined;
    try {
      eg = await import("../../src/index.js");
    } catch (err) {
      const reason = `Engram failed to load: ${errorMessage(err)}`;
      c.notes.push(reason);
      for (const s of specs) for (const x of s.contenders) if (x.startsWith("engram-")) c.results.put(skippedRow(s.w, x, reason));
    }
    if (eg) {
      const info = eg.backendInfo();
      for (const id of ["engram-native-openblas", "engram-native-builtin", "engram-native", "engram-ts"])
        c.contenders[id] = { backend_info: info };
      if (info.native) threads = info.native.threads;
      c.notes.push(
        info.nativeAvailable && info.native
          ? `engram native: OpenBLAS ${info.native.openblas ? `linked${info.native.openblasVersion ? ` (${info.native.openblasVersion})` : ""}` : "not linked"}, ` +
              `default GEMM ${info.native.blas}, ISA ${info.native.gemmKernel}, ${info.native.threads} threads`
          : `engram native unavailable: ${info.nativeError ?? "no reason given"}`,
      );
      runEngram(eg, c, specs);
    }
  }

  if (wants("memcpy-js")) runMemcpyJs(c, specs);

  if (wants("tfjs-wasm")) {
    ctx.log("tfjs-wasm: initialising");
    const tfw = await loadTfjsWasm();
    if (tfw.ok) {
      const v = tfw.value;
      c.contenders["tfjs-wasm"] = {
        version: v.version,
        variant: v.variant,
        threads: v.threads,
        ...(v.threadedError ? { threaded_error: v.threadedError } : {}),
      };
      c.notes.push(
        `tfjs-wasm ${v.version}: ran the ${v.variant} variant with ${v.threads} thread(s)` +
          (v.threadedError ? `; the threaded-simd variant failed in Node: ${v.threadedError}` : ""),
      );
      runTfjs(v, c, specs);
    } else {
      c.notes.push(`tfjs-wasm skipped: ${tfw.reason}`);
      for (const s of specs) if (s.contenders.includes("tfjs-wasm")) c.results.put(skippedRow(s.w, "tfjs-wasm", tfw.reason));
    }
  }

  await runOpenblasC(c, specs);
  await runTorch(c, specs, threads);

  if (specs.some((s) => s.kind === "elementwise")) {
    c.notes.push(
      "elementwise: ops allocate their output on every call (as users see them); memcpy-js/memcpy-c copy into a preallocated buffer",
    );
  }
  if (specs.some((s) => s.kind === "gemm" && s.n > TS_GEMM_MAX && s.contenders.includes("engram-ts"))) {
    c.notes.push(`engram-ts GEMM is not run above n=${TS_GEMM_MAX}`);
  }
  const contenders: Record<string, Record<string, unknown>> = {};
  for (const id of new Set(specs.flatMap((s) => s.contenders))) {
    contenders[id] = { description: CONTENDER_DESCRIPTIONS[id] ?? id, ...c.contenders[id] };
  }
  return { rows: c.results.ordered(specs), notes: c.notes, contenders };
}

export const engineSuite: Suite = {
  name: "engine",
  description: "GEMM, elementwise bandwidth, Adam step and per-op overhead vs OpenBLAS, TF.js wasm, PyTorch",
  run,
};
