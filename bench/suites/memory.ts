/**
 * The memory suite: one training step (forward over the whole sequence, loss, backward, optimizer
 * step) of each memory-augmented network at its reference setting, Engram (native, ts) against
 * PyTorch (child process, bench/peers/torch_memory.py: the same math, sizes and thread count).
 *
 *   NTM   copy task, batch 16, sequences of 20 8-bit vectors (41 steps: input, delimiter, recall),
 *         LSTM-100 controller, 128 x 20 memory, one read and one write head, RMSprop
 *   DNC   the same sequences, LSTM-64 controller, 16 x 16 memory, 4 read heads (deepmind/dnc's setting)
 *   MemN2N  bAbI task 1's vocabulary and sentence width, 50 sentences per story, batch 32, d = 20,
 *         3 hops, adjacent tying, position and temporal encoding, SGD (momentum 0.9), norm clip 40
 *   fast weights  associative retrieval (K = 4: 11 symbols), batch 128, H = 64, S = 1, layer norm,
 *         the attention formulation, a 100-unit ReLU head, Adam, norm clip 5
 * (the MemN2N and fast-weights settings are their model specs' training settings).
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
    }
  | {
      kind: "memn2n";
      threads: number;
      batch: number;
      /** Sentences per story (all real), words per sentence and per question. */
      sentences: number;
      words: number;
      query_words: number;
      vocab: number;
      dim: number;
      hops: number;
    }
  | {
      kind: "fast-weights";
      threads: number;
      batch: number;
      steps: number;
      vocab: number;
      hidden: number;
      head: number;
      decay: number;
      fast_lr: number;
    };

interface Spec {
  mem: MemorySpec;
  w: Workload;
  contenders: string[];
}

const GROUP = "Memory networks: one training step (forward, loss, backward, optimizer step; time per call)";

const CONTENDER_DESCRIPTIONS: Record<string, string> = {
  pytorch:
    "PyTorch CPU: the same models written with nn.LSTMCell, F.embedding, batched tensor ops, torch.optim (bench/peers/torch_memory.py)",
  "engram-native": "Engram, native backend: NtmTagger / DncTagger / MemN2N / FastWeightsQA (src/memory), the same optimizer",
  "engram-ts": "Engram, ts backend (portable TypeScript kernels), same model",
};

/** Copy-task sequences of 20 vectors: 8 bits (+ delimiter channel) in, 8 bits out, 2 * 20 + 1 steps. */
const COPY = { batch: 16, steps: 41, input: 9, output: 8 } as const;

/** bAbI task 1 as createTask("babi") generates it: 22 ids (PAD and specials included), 6-word sentences and questions. */
const BABI1 = { vocab: 22, words: 6, query_words: 6 } as const;

/** Associative retrieval with K = 4 pairs (createTask("associative-retrieval")): 40 ids, k1 v1 .. k4 v4 ? ? q. */
const RETRIEVAL = { vocab: 40, steps: 11 } as const;

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
  {
    name: "MemN2N train step (B32, 50 sentences, d=20, 3 hops, adjacent tying, PE + TE, SGD)",
    target: 0.5,
    mem: (threads) => ({ kind: "memn2n", threads, batch: 32, sentences: 50, ...BABI1, dim: 20, hops: 3 }),
  },
  {
    name: "fast-weights train step (associative retrieval K=4, B128, hidden 64, S=1, layer norm, Adam)",
    target: 0.5,
    mem: (threads) => ({ kind: "fast-weights", threads, batch: 128, ...RETRIEVAL, hidden: 64, head: 100, decay: 0.95, fast_lr: 0.5 }),
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
  MemN2N: typeof import("../../src/memory/memn2n.js").MemN2N;
  FastWeightsQA: typeof import("../../src/memory/fast-weights.js").FastWeightsQA;
  createTask: typeof import("../../src/tasks/index.js").createTask;
}

/** Random bits, like the copy task's inputs and targets. */
function bits(eg: Engram, shape: number[], gen: InstanceType<Engram["Generator"]>): Tensor {
  return eg.noGrad(() => eg.cast(eg.gt(eg.rand(shape, { generator: gen }), 0.5), "float32"));
}

/** rows x width word ids: each row 3..width words drawn from 1..vocab - 1, then PAD (0). */
function sentences(rows: number, width: number, vocab: number, gen: InstanceType<Engram["Generator"]>): Int32Array {
  const ids = new Int32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const n = gen.randint(3, width + 1);
    for (let j = 0; j < n; j++) ids[r * width + j] = gen.randint(1, vocab);
  }
  return ids;
}

function sameSizes(what: string, actual: readonly number[], expected: readonly number[]): void {
  if (actual.join() !== expected.join())
    throw new Error(`${what}: the task's sizes ${actual.join("x")} are not the spec's ${expected.join("x")}`);
}

/** The train step on the current backend; returns the loss for a sanity check. */
function engramWorkload(eg: Engram, models: Models, s: MemorySpec): () => number {
  const gen = new eg.Generator(0);
  if (s.kind === "memn2n") {
    const babi = models.createTask("babi");
    const sample = babi.batch("train", 1, 0);
    sameSizes("memn2n", [babi.inputSize, sample.input.shape[2]!, sample.query!.shape[1]!], [s.vocab, s.words, s.query_words]);
    const model = new models.MemN2N(s.vocab, {
      embeddingDim: s.dim,
      hops: s.hops,
      memorySize: s.sentences,
      randomNoise: 0,
      generator: gen,
    });
    const story = new eg.Tensor(sentences(s.batch * s.sentences, s.words, s.vocab, gen), [s.batch, s.sentences, s.words], "int32");
    const query = new eg.Tensor(sentences(s.batch, s.query_words, s.vocab, gen), [s.batch, s.query_words], "int32");
    const lengths = new eg.Tensor(new Int32Array(s.batch).fill(s.sentences), [s.batch], "int32");
    const answer = new eg.Tensor(
      Int32Array.from({ length: s.batch }, () => gen.randint(1, s.vocab)),
      [s.batch],
      "int32",
    );
    const params = model.parameters();
    const opt = new eg.optim.SGD(params, { lr: 0.01, momentum: 0.9 });
    return () => {
      opt.zeroGrad();
      const loss = eg.crossEntropy(model.forward(story, query, { lengths }).logits, answer);
      loss.backward();
      eg.optim.clipGradNorm(params, 40);
      opt.step();
      return loss.item();
    };
  }
  if (s.kind === "fast-weights") {
    const task = models.createTask("associative-retrieval");
    const batch = task.batch("train", s.batch, 0);
    sameSizes("fast-weights", [task.inputSize, ...batch.input.shape], [s.vocab, s.batch, s.steps]);
    const model = new models.FastWeightsQA(s.vocab, s.hidden, {
      headSize: s.head,
      decay: s.decay,
      fastLearningRate: s.fast_lr,
      innerSteps: 1,
      layerNorm: true,
      generator: gen,
    });
    const params = model.parameters();
    const opt = new eg.optim.Adam(params, { lr: 1e-3 });
    return () => {
      opt.zeroGrad();
      const loss = model.loss(batch);
      loss.backward();
      eg.optim.clipGradNorm(params, 5);
      opt.step();
      return loss.item();
    };
  }
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
      MemN2N: (await import("../../src/memory/memn2n.js")).MemN2N,
      FastWeightsQA: (await import("../../src/memory/fast-weights.js")).FastWeightsQA,
      createTask: (await import("../../src/tasks/index.js")).createTask,
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
  notes.push("NTM, DNC: BCE-with-logits over every step; RMSprop lr 1e-4, alpha 0.95, momentum 0.9 (pytorch-ntm's)");
  notes.push("MemN2N: cross-entropy, gradient norm clipped to 40, SGD lr 0.01 momentum 0.9; no random noise, no linear start");
  notes.push("fast weights: cross-entropy on the answer, gradient norm clipped to 5, Adam lr 1e-3");
  notes.push("targets: NTM, MemN2N and fast-weights Engram native time <= 0.5 x PyTorch time (ratio >= 2.00); DNC reported");
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
  description: "Memory-augmented network train steps (NTM copy, DNC, MemN2N, fast weights) vs PyTorch",
  run,
};
