/**
 * The memory suite: one training step (forward over the whole sequence, loss, backward, optimizer
 * step) of each memory-augmented network at its reference setting, Engram (native, ts) against
 * PyTorch (child process, bench/peers/torch_memory.py: the same math, sizes and thread count).
 *
 *   NTM   copy task, batch 16, sequences of 20 8-bit vectors (41 steps: input, delimiter, recall),
 *         LSTM-100 controller, 128 x 20 memory, one read and one write head, RMSprop
 *   DNC   the same sequences, LSTM-64 controller, 16 x 16 memory, 4 read heads (deepmind/dnc's setting)
 *
 * Every contender runs with the native backend's thread count and, when that is above 1, again
 * on one thread (on a machine whose cores are shared, multi-threaded times mostly measure contention).
 */
import os from "node:os";
import { fileURLToPath } from "node:url";
import { measure, measuredRow, skippedRow, type Measurement, type Row, type Workload } from "../harness.js";
import { runJsonPeer } from "../peers/process.js";
import { describeTorch, pythonPath, type TorchInfo } from "../peers/torch.js";
import type { Suite, SuiteContext, SuiteResult } from "../suite.js";

type Engram = typeof import("../../src/index.js");
type Tensor = InstanceType<Engram["Tensor"]>;

/** One ts-backend call slower than this is not measured (the timing plan would take minutes). */
const TS_MAX_CALL_MS = 3000;

/** What the peer builds; field names are the peer's (snake_case). */
type MemorySpec =
  | {
      kind: "ntm";
      threads: number;
      batch: number;
      steps: number;
      input: number;
      output: number;
      hidden: number;
      slots: number;
      width: number;
      reads: number;
      writes: number;
      shift_range: number;
    }
  | {
      kind: "dnc";
      threads: number;
      batch: number;
      steps: number;
      input: number;
      output: number;
      hidden: number;
      slots: number;
      width: number;
      reads: number;
    };

interface Spec {
  mem: MemorySpec;
  w: Workload;
  contenders: string[];
}

const GROUP = "Memory networks: one training step (forward, loss, backward, optimizer step; time per call)";

const CONTENDER_DESCRIPTIONS: Record<string, string> = {
  pytorch: "PyTorch CPU: nn.LSTMCell controller, addressing written with batched tensor ops, torch.optim (bench/peers/torch_memory.py)",
  "engram-native": "Engram, native backend: NtmTagger / DncTagger (src/memory), the same optimizer",
  "engram-ts": "Engram, ts backend (portable TypeScript kernels), same model",
};

/** Copy-task sequences of 20 vectors: 8 bits (+ delimiter channel) in, 8 bits out, 2 * 20 + 1 steps. */
const COPY = { batch: 16, steps: 41, input: 9, output: 8 } as const;

/** Harness ratio (PyTorch time / Engram time) for an Engram time / PyTorch time target, rounded up. */
const minRatio = (timeRatio: number): number => Math.ceil(100 / timeRatio) / 100;

interface Entry {
  name: string;
  /** Engram time / PyTorch time must be at most this (undefined: reported only). */
  target?: number;
  mem: (threads: number) => MemorySpec;
}

const ENTRIES: Entry[] = [
  {
    name: "NTM copy train step (B16, length 20, LSTM-100, 128x20 memory, 1 read + 1 write head, RMSprop)",
    target: 0.5,
    mem: (threads) => ({ kind: "ntm", threads, ...COPY, hidden: 100, slots: 128, width: 20, reads: 1, writes: 1, shift_range: 1 }),
  },
  {
    name: "DNC train step (B16, 41 steps, LSTM-64, 16x16 memory, 4 read heads, RMSprop)",
    mem: (threads) => ({ kind: "dnc", threads, ...COPY, hidden: 64, slots: 16, width: 16, reads: 4 }),
  },
];

/** Every workload with its contenders (pure; --only keeps the reference of any selected workload). */
export function memorySpecs(selected: (workload: string, contender: string) => boolean, threads: number): Spec[] {
  const specs: Spec[] = [];
  const counts = threads > 1 ? [threads, 1] : [1];
  for (const [ti, nt] of counts.entries())
    for (const entry of ENTRIES) {
      const mem = entry.mem(nt);
      const w: Workload = {
        name: `${entry.name}, ${nt} thread${nt > 1 ? "s" : ""}`,
        group: GROUP,
        reference: "pytorch",
        params: { ...mem, dtype: "float32" },
        ...(entry.target !== undefined ? { targets: { "engram-native": { minRatio: minRatio(entry.target) } } } : {}),
      };
      // the portable kernels are single-threaded: measured once
      const all = ti === 0 ? ["pytorch", "engram-native", "engram-ts"] : ["pytorch", "engram-native"];
      const chosen = all.filter((c) => selected(w.name, c));
      if (chosen.length === 0) continue;
      if (!chosen.includes(w.reference)) chosen.unshift(w.reference);
      specs.push({ mem, w, contenders: all.filter((c) => chosen.includes(c)) });
    }
  return specs;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message.split("\n")[0]! : String(err);
}

function timingParams(m: Measurement): Record<string, unknown> {
  return { iterations: m.iterations, repeats: m.repeats, min_ms: Number(m.minMs.toPrecision(6)), max_ms: Number(m.maxMs.toPrecision(6)) };
}

/** The memory models, loaded once the engine is. */
interface Models {
  NtmTagger: typeof import("../../src/memory/ntm.js").NtmTagger;
  DncTagger: typeof import("../../src/memory/dnc.js").DncTagger;
}

/** Random bits, like the copy task's inputs and targets. */
function bits(eg: Engram, shape: number[], gen: InstanceType<Engram["Generator"]>): Tensor {
  return eg.noGrad(() => eg.cast(eg.gt(eg.rand(shape, { generator: gen }), 0.5), "float32"));
}

/** The train step on the current backend; returns the loss for a sanity check. */
function engramWorkload(eg: Engram, models: Models, s: MemorySpec): () => number {
  const gen = new eg.Generator(0);
  const model =
    s.kind === "ntm"
      ? new models.NtmTagger(s.input, s.output, {
          hiddenSize: s.hidden,
          memorySlots: s.slots,
          memoryWidth: s.width,
          readHeads: s.reads,
          writeHeads: s.writes,
          shiftRange: s.shift_range,
          generator: gen,
        })
      : new models.DncTagger(s.input, s.output, {
          hiddenSize: s.hidden,
          memorySlots: s.slots,
          memoryWidth: s.width,
          readHeads: s.reads,
          generator: gen,
        });
  const x = bits(eg, [s.batch, s.steps, s.input], gen);
  const y = bits(eg, [s.batch, s.steps, s.output], gen);
  // the NTM paper's optimizer (pytorch-ntm's settings), for both models
  const opt = new eg.optim.RMSprop(model.parameters(), { lr: 1e-4, alpha: 0.95, momentum: 0.9 });
  return () => {
    opt.zeroGrad();
    const loss = eg.binaryCrossEntropyWithLogits(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.item();
  };
}

function runEngram(eg: Engram, models: Models, ctx: SuiteContext, specs: readonly Spec[], put: (r: Row) => void): void {
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
        if (contender === "engram-native") eg.setNativeThreads(spec.mem.threads);
        const fn = engramWorkload(eg, models, spec.mem);
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
  | { info: TorchInfo; rows: (MemorySpec & { first_value: number; median_ms: number; iterations: number; repeats: number })[] }
  | { skipped: string };

async function runTorch(ctx: SuiteContext, specs: readonly Spec[], put: (r: Row) => void, notes: string[]): Promise<TorchInfo | undefined> {
  let last: TorchInfo | undefined;
  for (const threads of new Set(specs.map((s) => s.mem.threads))) {
    const mine = specs.filter((s) => s.mem.threads === threads && s.contenders.includes("pytorch"));
    if (mine.length === 0) continue;
    ctx.log(`pytorch: running bench/peers/torch_memory.py with ${threads} thread(s)`);
    const skipAll = (reason: string): void => {
      for (const s of mine) put(skippedRow(s.w, "pytorch", reason));
      notes.push(`pytorch (${threads} threads) skipped: ${reason}`);
    };
    const script = fileURLToPath(new URL("../peers/torch_memory.py", import.meta.url));
    const req = { timing: ctx.timing, threads, memory: mine.map((s) => s.mem) };
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
    mine.forEach((s, i) => {
      const found = rows[i];
      put(
        found && found.kind === s.mem.kind
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
    });
  }
  return last;
}

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const results = new Map<string, Row>();
  const put = (r: Row): void => void results.set(`${r.workload}\u0000${r.contender}`, r);
  const notes: string[] = [];
  const contenders: Record<string, Record<string, unknown>> = {};
  let eg: Engram | undefined;
  let models: Models | undefined;
  let loadError: string | undefined;
  try {
    eg = await import("../../src/index.js");
    models = {
      NtmTagger: (await import("../../src/memory/ntm.js")).NtmTagger,
      DncTagger: (await import("../../src/memory/dnc.js")).DncTagger,
    };
  } catch (err) {
    loadError = `Engram failed to load: ${errorMessage(err)}`;
  }
  // every contender uses the native pool's thread count (all cores unless ENGRAM_NUM_THREADS)
  const specs = memorySpecs((w, c) => ctx.selected(w, c), eg?.backendInfo().native?.threads ?? os.availableParallelism());
  if (specs.some((s) => s.contenders.some((c) => c.startsWith("engram-")))) {
    if (loadError !== undefined) {
      notes.push(loadError);
      for (const s of specs) for (const c of s.contenders) if (c.startsWith("engram-")) put(skippedRow(s.w, c, loadError));
    } else if (eg && models) {
      const info = eg.backendInfo();
      contenders["engram-native"] = { backend_info: info };
      contenders["engram-ts"] = { backend_info: { backend: "ts" } };
      notes.push(
        info.nativeAvailable && info.native
          ? `engram native: GEMM ${info.native.blas}, ISA ${info.native.gemmKernel}, ${info.native.threads} threads`
          : `engram native unavailable: ${info.nativeError ?? "no reason given"}`,
      );
      runEngram(eg, models, ctx, specs, put);
    }
  }
  const torchInfo = await runTorch(ctx, specs, put, notes);
  if (torchInfo) contenders["pytorch"] = { ...torchInfo };
  notes.push("loss: BCE-with-logits over every step; optimizer: RMSprop lr 1e-4, alpha 0.95, momentum 0.9 (pytorch-ntm's)");
  notes.push("targets: NTM Engram native time <= 0.5 x PyTorch time (ratio >= 2.00); DNC reported");
  const described: Record<string, Record<string, unknown>> = {};
  for (const id of new Set(specs.flatMap((s) => s.contenders)))
    described[id] = { description: CONTENDER_DESCRIPTIONS[id] ?? id, ...contenders[id] };
  const rows = specs.flatMap((s) =>
    s.contenders.map((c) => results.get(`${s.w.name}\u0000${c}`) ?? skippedRow(s.w, c, "not run (internal error: no result recorded)")),
  );
  return { rows, notes, contenders: described };
}

export const memorySuite: Suite = {
  name: "memory",
  description: "Memory-augmented network train steps (NTM copy, DNC) vs PyTorch",
  run,
};
