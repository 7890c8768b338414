/**
 * The lstm suite: one training step of a single-layer LSTM with a linear head on a copy-task-sized
 * batch (BCE-with-logits loss, backward, Adam step) and the forward pass alone under noGrad,
 * Engram (native, ts) against PyTorch (child process, same model, sizes and thread count).
 */
import os from "node:os";
import { measure, measuredRow, skippedRow, type Measurement, type Row, type Workload } from "../harness.js";
import { runJsonPeer } from "../peers/process.js";
import { describeTorch, pythonPath, type TorchInfo } from "../peers/torch.js";
import type { Suite, SuiteContext, SuiteResult } from "../suite.js";

type Engram = typeof import("../../src/index.js");

/** The copy task's shapes: 21 steps of 8 bits plus a delimiter channel in, 8 bits out. */
const BATCH = 32;
const STEPS = 21;
const INPUT = 9;
const OUTPUT = 8;
const HIDDEN_SIZES = [128, 256];
const QUICK_HIDDEN_SIZES = [128];
/** One ts-backend call slower than this is not measured (the timing plan would take minutes). */
const TS_MAX_CALL_MS = 3000;
/** Engram time / PyTorch time must be at most this. */
const TARGET_TIME_RATIO = 0.7;
/** The same target as a harness ratio (PyTorch time / Engram time), rounded up to 2 decimals. */
const MIN_RATIO = Math.ceil(100 / TARGET_TIME_RATIO) / 100;

type Kind = "train" | "forward";

interface LstmSpec {
  kind: Kind;
  /** Intra-op threads of every contender (native pool and PyTorch). */
  threads: number;
  batch: number;
  steps: number;
  input: number;
  hidden: number;
  output: number;
}

interface Spec {
  lstm: LstmSpec;
  w: Workload;
  contenders: string[];
}

const GROUP = `LSTM: batch ${BATCH}, ${STEPS} steps, input ${INPUT}, 1 layer, linear head to ${OUTPUT} (time per call)`;

const CONTENDER_DESCRIPTIONS: Record<string, string> = {
  pytorch: "PyTorch CPU, torch.nn.LSTM + Linear, BCEWithLogitsLoss, torch.optim.Adam (bench/peers/torch_lstm.py)",
  "engram-native": "Engram, native backend: nn.LSTM (fused lstmCell) + nn.Linear, binaryCrossEntropyWithLogits, optim.Adam",
  "engram-ts": "Engram, ts backend (portable TypeScript kernels), same model",
};

const TITLES: Record<Kind, string> = {
  train: "train step (forward, BCE-with-logits, backward, Adam)",
  forward: "forward only (inference, noGrad)",
};

/**
 * Every workload with its contenders (pure; --only keeps the reference of any selected workload).
 * Each runs with the native backend's thread count and, when that is above 1, again on one thread:
 * on a machine whose cores are shared, multi-threaded times mostly measure the contention.
 */
export function lstmSpecs(quick: boolean, selected: (workload: string, contender: string) => boolean, threads: number): Spec[] {
  const specs: Spec[] = [];
  const counts = threads > 1 ? [threads, 1] : [1];
  for (const [ti, nt] of counts.entries())
    for (const hidden of quick ? QUICK_HIDDEN_SIZES : HIDDEN_SIZES) {
      for (const kind of ["train", "forward"] as const) {
        const lstm: LstmSpec = { kind, threads: nt, batch: BATCH, steps: STEPS, input: INPUT, hidden, output: OUTPUT };
        const w: Workload = {
          name: `LSTM H=${hidden} ${TITLES[kind]}, ${nt} thread${nt > 1 ? "s" : ""}`,
          group: GROUP,
          reference: "pytorch",
          params: { ...lstm, dtype: "float32" },
          targets: { "engram-native": { minRatio: MIN_RATIO } },
        };
        // the portable kernels are single-threaded: measured once
        const all = ti === 0 ? ["pytorch", "engram-native", "engram-ts"] : ["pytorch", "engram-native"];
        const chosen = all.filter((c) => selected(w.name, c));
        if (chosen.length === 0) continue;
        if (!chosen.includes(w.reference)) chosen.unshift(w.reference);
        specs.push({ lstm, w, contenders: all.filter((c) => chosen.includes(c)) });
      }
    }
  return specs;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message.split("\n")[0]! : String(err);
}

function timingParams(m: Measurement): Record<string, unknown> {
  return { iterations: m.iterations, repeats: m.repeats, min_ms: Number(m.minMs.toPrecision(6)), max_ms: Number(m.maxMs.toPrecision(6)) };
}

/** Random bits, like the copy task's inputs and targets. */
function bits(eg: Engram, shape: number[], gen: InstanceType<Engram["Generator"]>): ReturnType<Engram["rand"]> {
  return eg.noGrad(() => eg.cast(eg.gt(eg.rand(shape, { generator: gen }), 0.5), "float32"));
}

/** The workload's function on the current backend; returns the loss (train) or mean logit (forward) for a sanity check. */
function engramWorkload(eg: Engram, s: LstmSpec): () => number {
  const gen = new eg.Generator(0);
  const lstm = new eg.nn.LSTM(s.input, s.hidden, { generator: gen });
  const head = new eg.nn.Linear(s.hidden, s.output, { generator: gen });
  const x = bits(eg, [s.steps, s.batch, s.input], gen);
  const y = bits(eg, [s.steps, s.batch, s.output], gen);
  if (s.kind === "forward") return () => eg.noGrad(() => eg.mean(head.forward(lstm.forward(x).output)).item());
  const opt = new eg.optim.Adam([...lstm.parameters(), ...head.parameters()], { lr: 1e-3 });
  return () => {
    opt.zeroGrad();
    const loss = eg.binaryCrossEntropyWithLogits(head.forward(lstm.forward(x).output), y);
    loss.backward();
    opt.step();
    return loss.item();
  };
}

function runEngram(eg: Engram, ctx: SuiteContext, specs: readonly Spec[], put: (r: Row) => void): void {
  const info = eg.backendInfo();
  for (const spec of specs) {
    for (const contender of spec.contenders.filter((c) => c.startsWith("engram-"))) {
      const w = spec.w;
      if (contender === "engram-native" && !info.nativeAvailable) {
        put(skippedRow(w, contender, `native backend unavailable: ${info.nativeError ?? "no reason given"}`));
        continue;
      }
      ctx.log(`${w.name}: ${contender}`);
      try {
        eg.setBackend(contender === "engram-ts" ? "ts" : "native");
        if (contender === "engram-native") eg.setNativeThreads(spec.lstm.threads);
        const fn = engramWorkload(eg, spec.lstm);
        const t0 = performance.now();
        const first = fn();
        const firstMs = performance.now() - t0;
        if (!Number.isFinite(first)) {
          put(skippedRow(w, contender, `WRONG RESULT: the first call returned ${first}`));
          continue;
        }
        if (contender === "engram-ts" && firstMs > TS_MAX_CALL_MS) {
          put(skippedRow(w, contender, `not measured: one call took ${(firstMs / 1000).toFixed(1)} s on the portable kernels`));
          continue;
        }
        const m = measure(() => void fn(), ctx.timing);
        const threads = contender === "engram-native" ? { threads: eg.backendInfo().native?.threads } : {};
        put(
          measuredRow(w, contender, m.medianMs, { params: { first_value: Number(first.toPrecision(6)), ...threads, ...timingParams(m) } }),
        );
      } catch (err) {
        put(skippedRow(w, contender, `error: ${errorMessage(err)}`));
      } finally {
        if (info.nativeAvailable) {
          eg.setBackend("native");
          eg.setNativeThreads(info.native?.threads ?? 1);
        }
      }
    }
  }
}

type TorchOutput =
  | { info: TorchInfo; rows: (LstmSpec & { first_value: number; median_ms: number; iterations: number; repeats: number })[] }
  | { skipped: string };

async function runTorch(ctx: SuiteContext, specs: readonly Spec[], put: (r: Row) => void, notes: string[]): Promise<TorchInfo | undefined> {
  let last: TorchInfo | undefined;
  for (const threads of new Set(specs.map((s) => s.lstm.threads))) {
    const mine = specs.filter((s) => s.lstm.threads === threads && s.contenders.includes("pytorch"));
    if (mine.length === 0) continue;
    ctx.log(`pytorch: running bench/peers/torch_lstm.py with ${threads} thread(s)`);
    const skipAll = (reason: string): void => {
      for (const s of mine) put(skippedRow(s.w, "pytorch", reason));
      notes.push(`pytorch (${threads} threads) skipped: ${reason}`);
    };
    const script = new URL("../peers/torch_lstm.py", import.meta.url).pathname;
    const req = { timing: ctx.timing, threads, lstm: mine.map((s) => s.lstm) };
    const res = await runJsonPeer<TorchOutput>(pythonPath(), [script], { timeoutMs: 900_000, input: JSON.stringify(req) });
    if (!res.ok) {
      skipAll(res.reason);
      continue;
    }
    if ("skipped" in res.value) {
      skipAll(res.value.skipped);
      continue;
    }
    const { info, rows } = res.value;
    last = info;
    notes.push(describeTorch(info));
    for (const s of mine) {
      const found = rows.find((r) => r.kind === s.lstm.kind && r.hidden === s.lstm.hidden);
      put(
        found
          ? measuredRow(s.w, "pytorch", found.median_ms, {
              params: {
                first_value: Number(found.first_value.toPrecision(6)),
                threads: info.threads,
                iterations: found.iterations,
                repeats: found.repeats,
              },
            })
          : skippedRow(s.w, "pytorch", "peer returned no row"),
      );
    }
  }
  return last;
}

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const results = new Map<string, Row>();
  const put = (r: Row): void => void results.set(`${r.workload}\u0000${r.contender}`, r);
  const notes: string[] = [];
  const contenders: Record<string, Record<string, unknown>> = {};
  const selected = (workload: string, contender: string): boolean => ctx.selected(workload, contender);
  let eg: Engram | undefined;
  let loadError: string | undefined;
  try {
    eg = await import("../../src/index.js");
  } catch (err) {
    loadError = `Engram failed to load: ${errorMessage(err)}`;
  }
  // every contender uses the native pool's thread count (all cores unless ENGRAM_NUM_THREADS)
  const specs = lstmSpecs(ctx.quick, selected, eg?.backendInfo().native?.threads ?? os.availableParallelism());
  if (specs.some((s) => s.contenders.some((c) => c.startsWith("engram-")))) {
    if (loadError !== undefined) {
      notes.push(loadError);
      for (const s of specs) for (const c of s.contenders) if (c.startsWith("engram-")) put(skippedRow(s.w, c, loadError));
    } else if (eg) {
      const info = eg.backendInfo();
      contenders["engram-native"] = { backend_info: info };
      contenders["engram-ts"] = { backend_info: { backend: "ts" } };
      notes.push(
        info.nativeAvailable && info.native
          ? `engram native: GEMM ${info.native.blas}, ISA ${info.native.gemmKernel}, ${info.native.threads} threads`
          : `engram native unavailable: ${info.nativeError ?? "no reason given"}`,
      );
      runEngram(eg, ctx, specs, put);
    }
  }
  const torchInfo = await runTorch(ctx, specs, put, notes);
  if (torchInfo) contenders["pytorch"] = { ...torchInfo };
  notes.push(`target: Engram native time <= ${TARGET_TIME_RATIO} x PyTorch time (ratio >= ${(1 / TARGET_TIME_RATIO).toFixed(2)})`);
  const described: Record<string, Record<string, unknown>> = {};
  for (const id of new Set(specs.flatMap((s) => s.contenders)))
    described[id] = { description: CONTENDER_DESCRIPTIONS[id] ?? id, ...contenders[id] };
  const rows = specs.flatMap((s) =>
    s.contenders.map((c) => results.get(`${s.w.name}\u0000${c}`) ?? skippedRow(s.w, c, "not run (internal error: no result recorded)")),
  );
  return { rows, notes, contenders: described };
}

export const lstmSuite: Suite = {
  name: "lstm",
  description: "LSTM train step and inference (copy-task sizes, H = 128 and 256) vs PyTorch",
  run,
};
