/**
 * The attention suite: causal scaled-dot-product attention inference at T = 4096 (8 heads of 64,
 * time and the peak memory one call adds), MultiHeadAttention forward + backward (B 16, T 128,
 * E 256, 4 heads) and a seq2seq training step (bidirectional-GRU encoder, Bahdanau-attention GRU
 * decoder with the deep output, teacher forcing, cross-entropy, Adam; B 32, 30 -> 30 tokens, vocab
 * 64, embeddings 64, 128 units per encoder direction and in the decoder), Engram (native, ts where
 * it finishes) against PyTorch 1.13 (child process, same sizes and thread count) and TF.js with the
 * wasm backend (in this process, bench/peers/tfjs-attention.ts). New workloads are further entries of
 * attentionSpecs with their own Engram setup, a kind the PyTorch peer understands and a TF.js twin.
 *
 * The TF.js twins start from the Engram model's initial weights and inputs (engramSetup's tensors),
 * so their output and first values are checked against Engram's before timing (runTfjs): a twin that
 * computes something else is reported WRONG RESULT rather than timed as a peer.
 *
 * "encoder-layer-train" is one training step of a TransformerEncoderLayer (B 32, T 64, D 256,
 * 4 heads, FF 1024, relu, dropout 0.1 in training mode, post-norm as PyTorch's default): forward,
 * MSE against a fixed target, backward, Adam step; PyTorch runs nn.TransformerEncoderLayer the same way.
 */
import os from "node:os";
import { fileURLToPath } from "node:url";
import { measure, measuredRow, skippedRow, type Measurement, type Row, type Workload } from "../harness.js";
import { runJsonPeer } from "../peers/process.js";
import { loadTfjsGradients, tfjsAttentionWorkload, type HostTensor, type TfjsAttentionWorkload } from "../peers/tfjs-attention.js";
import { loadTfjsWasm, type TfjsWasm } from "../peers/tfjs-wasm.js";
import { describeTorch, pythonPath, type TorchInfo } from "../peers/torch.js";
import type { Suite, SuiteContext, SuiteResult } from "../suite.js";

type Engram = typeof import("../../src/index.js");
type EgTensor = InstanceType<Engram["Tensor"]>;

/** One ts-backend call slower than this is not measured. */
const TS_MAX_CALL_MS = 3000;
/** One TF.js call slower than this is not measured (measuring takes at least five calls). */
const TFJS_MAX_CALL_MS = 20_000;
/** Largest relative difference from Engram (max |difference| / max |Engram|) that still counts as the same computation. */
const TFJS_OUTPUT_TOLERANCE = 1e-3;
const TFJS_LOSS_TOLERANCE = 1e-4;

export type AttentionSpec =
  | { kind: "causal-sdpa"; batch: number; heads: number; seq: number; head_dim: number }
  | { kind: "mha-train"; batch: number; seq: number; embed: number; heads: number }
  | {
      kind: "encoder-layer-train";
      batch: number;
      seq: number;
      d_model: number;
      heads: number;
      ff: number;
      dropout: number;
      norm: "post" | "pre";
    }
  | { kind: "seq2seq-train"; batch: number; src_len: number; tgt_len: number; vocab: number; embed: number; hidden: number };

interface Spec {
  attn: AttentionSpec;
  w: Workload;
  contenders: string[];
}

const GROUP = "Attention (time per call)";

const CONTENDER_DESCRIPTIONS: Record<string, string> = {
  pytorch:
    "PyTorch CPU: math path (matmul, masked_fill, softmax, matmul) / nn.MultiheadAttention(need_weights=False) / nn.TransformerEncoderLayer + Adam / " +
    "the same seq2seq written with nn.GRU, nn.GRUCell and a Python decoder loop, torch.optim.Adam (bench/peers/torch_attention.py)",
  "engram-native":
    "Engram, native backend: scaledDotProductAttention / nn.MultiHeadAttention on the fused attention kernel / TransformerEncoderLayer + Adam / " +
    "models Seq2Seq (bahdanau, gru) with optim.Adam",
  "engram-ts": "Engram, ts backend (portable TypeScript kernels), same calls",
  "tfjs-wasm":
    "TF.js (tfjs-core + tfjs-backend-wasm) in this process, the same models composed from tf.matMul, tf.softmax, elementwise ops, " +
    "tf.variableGrads / tf.train.adam and hand-written GRU cells, on Engram's initial weights and inputs (bench/peers/tfjs-attention.ts)",
};

/** Engram time / PyTorch time targets, as harness ratios (PyTorch / Engram) rounded up. */
const minRatio = (timeRatio: number): number => Math.ceil(100 / timeRatio) / 100;

export function attentionSpecs(quick: boolean, selected: (workload: string, contender: string) => boolean): Spec[] {
  const seq = quick ? 1024 : 4096;
  const all: { attn: AttentionSpec; name: string; target: number; flops: number }[] = [
    {
      attn: { kind: "causal-sdpa", batch: 1, heads: 8, seq, head_dim: 64 },
      name: `causal SDPA inference, T=${seq}, 8 heads x 64, batch 1`,
      target: 0.5,
      // q k^T and P v over the visible half of the scores
      flops: 2 * 8 * seq * seq * 64,
    },
    {
      attn: { kind: "mha-train", batch: 16, seq: 128, embed: 256, heads: 4 },
      name: "MultiHeadAttention forward + backward, B16 T128 E256 H4",
      target: 0.7,
      // projections (4 x 2 B T E^2) and attention (2 x 2 B T^2 E), forward and twice that backward
      flops: 3 * (4 * 2 * 16 * 128 * 256 * 256 + 2 * 2 * 16 * 128 * 128 * 256),
    },
    {
      attn: { kind: "encoder-layer-train", batch: 32, seq: 64, d_model: 256, heads: 4, ff: 1024, dropout: 0.1, norm: "post" },
      name: "Transformer encoder layer train step (post-norm, dropout 0.1), B32 T64 D256 H4 FF1024, Adam",
      target: 0.8,
      // attention projections (4 x 2 B T D^2), feed-forward (2 x 2 B T D FF), scores and P v (2 x 2 B T^2 D), backward twice the forward
      flops: 3 * (4 * 2 * 32 * 64 * 256 * 256 + 2 * 2 * 32 * 64 * 256 * 1024 + 2 * 2 * 32 * 64 * 64 * 256),
    },
    {
      attn: SEQ2SEQ,
      name: "seq2seq bidirectional-GRU encoder + Bahdanau decoder train step, B32, 30 -> 30, hidden 128, vocab 64",
      target: 0.5,
      flops: seq2seqFlops(SEQ2SEQ),
    },
  ];
  const specs: Spec[] = [];
  for (const a of all) {
    const w: Workload = {
      name: a.name,
      group: GROUP,
      reference: "pytorch",
      params: { ...a.attn, dtype: "float32" },
      flops: a.flops,
      targets: { "engram-native": { minRatio: minRatio(a.target) } },
    };
    // the portable kernels take over a minute per causal T = 4096 call (74 s measured), 45.8 s per encoder layer
    // step and ~10 s per seq2seq step (over TS_MAX_CALL_MS, so they would only be skipped after one call): not run
    const slowOnTs = (a.attn.kind === "causal-sdpa" && !quick) || a.attn.kind === "encoder-layer-train" || a.attn.kind === "seq2seq-train";
    const pool = slowOnTs ? ["pytorch", "engram-native", "tfjs-wasm"] : ["pytorch", "engram-native", "engram-ts", "tfjs-wasm"];
    const chosen = pool.filter((c) => selected(w.name, c));
    if (chosen.length === 0) continue;
    if (!chosen.includes("pytorch")) chosen.unshift("pytorch");
    specs.push({ attn: a.attn, w, contenders: chosen });
  }
  return specs;
}

type Seq2SeqSpec = Extract<AttentionSpec, { kind: "seq2seq-train" }>;
const SEQ2SEQ: Seq2SeqSpec = { kind: "seq2seq-train", batch: 32, src_len: 30, tgt_len: 30, vocab: 64, embed: 64, hidden: 128 };

/** Multiply-adds x 2 of the seq2seq step's matrix products, forward, and twice that backward. */
function seq2seqFlops(s: Seq2SeqSpec): number {
  const { batch: B, src_len: S, tgt_len: T, vocab: V, embed: E, hidden: H } = s;
  const A = 2 * H;
  const encoder = 2 * S * (2 * B * E * 3 * H + 2 * B * H * 3 * H);
  const keys = 2 * B * S * A * H;
  // per decoder step: W s, v . tanh(..), context, cell input and recurrent projections
  const step = 2 * B * H * H + 2 * B * S * H + 2 * B * S * A + 2 * B * (E + A) * 3 * H + 2 * B * H * 3 * H;
  const head = 2 * T * B * (H + E + A) * H + 2 * T * B * (H / 2) * V;
  return 3 * (encoder + keys + T * step + head);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message.split("\n")[0]! : String(err);
}

function timingParams(m: Measurement): Record<string, unknown> {
  return { iterations: m.iterations, repeats: m.repeats, min_ms: Number(m.minMs.toPrecision(6)), max_ms: Number(m.maxMs.toPrecision(6)) };
}

/** The Engram side of a workload: the timed call, its forward output (no dropout) and the weights and inputs the TF.js twin starts from. */
interface EngramSetup {
  step: () => number;
  output: () => Float32Array;
  /** Copies, made when asked for (only the TF.js runner needs them). */
  tensors: () => Map<string, HostTensor>;
}

function hostTensor(t: EgTensor): HostTensor {
  const data = t.data as ArrayLike<number>;
  return { data: t.dtype === "int32" ? Int32Array.from(data) : Float32Array.from(data), shape: [...t.shape] };
}

function hostTensors(params: [string, EgTensor][], inputs: Record<string, EgTensor>): Map<string, HostTensor> {
  return new Map([...params, ...Object.entries(inputs)].map(([n, t]) => [n, hostTensor(t)]));
}

const floats = (t: EgTensor): Float32Array => Float32Array.from(t.data as ArrayLike<number>);

/** Builds a workload from Generator(0): every call gives the same weights and inputs. */
async function engramSetup(eg: Engram, s: AttentionSpec): Promise<EngramSetup> {
  const gen = new eg.Generator(0);
  if (s.kind === "causal-sdpa") {
    const { scaledDotProductAttention } = await import("../../src/attention/sdpa.js");
    const shape = [s.batch, s.heads, s.seq, s.head_dim];
    const [q, k, v] = [0, 1, 2].map(() => eg.randn(shape, { generator: gen })) as [EgTensor, EgTensor, EgTensor];
    const forward = (): EgTensor => eg.noGrad(() => scaledDotProductAttention(q, k, v, { isCausal: true }).output);
    return { step: () => eg.mean(forward()).item(), output: () => floats(forward()), tensors: () => hostTensors([], { q, k, v }) };
  }
  if (s.kind === "encoder-layer-train") {
    const { TransformerEncoderLayer } = await import("../../src/models/transformer-layers.js");
    const { Adam } = await import("../../src/optim/adam.js");
    const layer = new TransformerEncoderLayer(s.d_model, s.heads, {
      dimFeedforward: s.ff,
      dropout: s.dropout,
      norm: s.norm,
      generator: gen,
    });
    layer.train();
    const opt = new Adam(layer.parameters(), { lr: 1e-4 });
    const x = eg.randn([s.batch, s.seq, s.d_model], { generator: gen });
    const target = eg.randn([s.batch, s.seq, s.d_model], { generator: gen });
    return {
      step: () => {
        opt.zeroGrad();
        const loss = eg.mseLoss(layer.forward(x).output, target);
        loss.backward();
        opt.step();
        return loss.item();
      },
      output: () => {
        layer.eval();
        try {
          return floats(eg.noGrad(() => layer.forward(x).output));
        } finally {
          layer.train();
        }
      },
      tensors: () => hostTensors(layer.namedParameters(), { x, target }),
    };
  }
  if (s.kind === "seq2seq-train") return seq2seqSetup(eg, s, gen);
  const { MultiHeadAttention } = await import("../../src/attention/multi-head.js");
  const m = new MultiHeadAttention(s.embed, s.heads, { generator: gen });
  const x = eg.randn([s.batch, s.seq, s.embed], { generator: gen });
  return {
    step: () => {
      m.zeroGrad();
      const out = m.forward(x, x, x, { needWeights: false }).output;
      const loss = eg.sum(out);
      loss.backward();
      return loss.item();
    },
    output: () => floats(eg.noGrad(() => m.forward(x, x, x, { needWeights: false }).output)),
    tensors: () => hostTensors(m.namedParameters(), { x }),
  };
}

/** One training step of models/seq2seq.ts on a fixed random batch (all rows full length, BOS = 1). */
async function seq2seqSetup(eg: Engram, s: Seq2SeqSpec, gen: InstanceType<Engram["Generator"]>): Promise<EngramSetup> {
  const { Seq2Seq } = await import("../../src/models/seq2seq.js");
  const m = new Seq2Seq(s.vocab, s.vocab, { attention: "bahdanau", rnn: "gru", embedDim: s.embed, hiddenSize: s.hidden, generator: gen });
  const opt = new eg.optim.Adam(m.parameters(), { lr: 1e-3 });
  const B = s.batch;
  // ids 3.. (0, 1, 2 are PAD, BOS, EOS)
  const ids = (n: number): Int32Array => Int32Array.from({ length: n }, () => gen.randint(3, s.vocab));
  const target = ids(B * s.tgt_len);
  const decoderInput = Int32Array.from(target, (_, i) => (i % s.tgt_len === 0 ? 1 : target[i - 1]!));
  const int = (data: Int32Array, shape: number[]): EgTensor => new eg.Tensor(data, shape, "int32");
  const batch = {
    input: int(ids(B * s.src_len), [B, s.src_len]),
    target: int(target, [B, s.tgt_len]),
    decoderInput: int(decoderInput, [B, s.tgt_len]),
    inputLengths: int(new Int32Array(B).fill(s.src_len), [B]),
    targetLengths: int(new Int32Array(B).fill(s.tgt_len), [B]),
    mask: eg.ones([B, s.tgt_len]),
  };
  return {
    step: () => {
      opt.zeroGrad();
      const loss = m.loss(batch);
      loss.backward();
      opt.step();
      return loss.item();
    },
    // logits (T, B, V)
    output: () => floats(eg.noGrad(() => m.forward(batch))),
    tensors: () => hostTensors(m.namedParameters(), { src: batch.input, target: batch.target, decoderInput: batch.decoderInput }),
  };
}

function peakNote(kb: number | string): string {
  return typeof kb === "number" ? `peak memory +${(kb / 1024).toFixed(1)} MiB` : `peak memory not measured: ${kb}`;
}

/** Peak resident memory one causal call adds, from a fresh child process (bench/attention-memory.ts). */
async function engramPeakKb(s: AttentionSpec, backend: "native" | "ts"): Promise<number | string> {
  const script = fileURLToPath(new URL("../attention-memory.ts", import.meta.url));
  const res = await runJsonPeer<{ peak_delta_kb: number }>(
    process.execPath,
    [...process.execArgv, script, JSON.stringify({ ...s, backend })],
    {
      timeoutMs: 300_000,
    },
  );
  return res.ok ? res.value.peak_delta_kb : res.reason;
}

async function runEngram(eg: Engram, ctx: SuiteContext, specs: readonly Spec[], put: (r: Row) => void): Promise<void> {
  const info = eg.backendInfo();
  for (const spec of specs) {
    for (const contender of spec.contenders.filter((c) => c.startsWith("engram-"))) {
      const w = spec.w;
      if (contender === "engram-native" && !info.nativeAvailable) {
        put(skippedRow(w, contender, `native backend unavailable: ${info.nativeError ?? "no reason given"}`));
        continue;
      }
      ctx.log(`${w.name}: ${contender}`);
      const backend = contender === "engram-ts" ? "ts" : "native";
      try {
        eg.setBackend(backend);
        const fn = (await engramSetup(eg, spec.attn)).step;
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
        const peak = spec.attn.kind === "causal-sdpa" ? await engramPeakKb(spec.attn, backend) : undefined;
        put(
          measuredRow(w, contender, m.medianMs, {
            ...(peak === undefined ? {} : { note: peakNote(peak) }),
            params: {
              first_value: Number(first.toPrecision(6)),
              ...(peak === undefined ? {} : { peak_delta_kb: peak }),
              threads: info.native?.threads,
              ...timingParams(m),
            },
          }),
        );
      } catch (err) {
        put(skippedRow(w, contender, `error: ${errorMessage(err)}`));
      } finally {
        if (info.nativeAvailable) eg.setBackend("native");
      }
    }
  }
}

/** Peak resident memory one causal TF.js call adds, from a fresh child process (bench/peers/tfjs-attention.ts run directly). */
async function tfjsPeakKb(s: AttentionSpec): Promise<number | string> {
  const script = fileURLToPath(new URL("../peers/tfjs-attention.ts", import.meta.url));
  const res = await runJsonPeer<{ peak_delta_kb: number } | { skipped: string }>(
    process.execPath,
    [...process.execArgv, script, JSON.stringify(s)],
    { timeoutMs: 300_000 },
  );
  if (!res.ok) return res.reason;
  return "skipped" in res.value ? res.value.skipped : res.value.peak_delta_kb;
}

/** max |a - b| / max |b|: 0 for the same numbers, about 1 for unrelated ones. */
function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return Number.isNaN(diff) ? Infinity : diff / (scale || 1);
}

/**
 * Compares the TF.js twin with Engram on the same weights and inputs (Engram's current backend):
 * the forward output without dropout (the causal call's and MHA's values are functions of it), then,
 * for a deterministic training step (seq2seq; the encoder layer's has dropout), the losses of two
 * steps, the second after one Adam update, so gradients and optimizer are compared too. The first
 * TF.js value is the row's first_value.
 */
function checkAgainstEngram(
  ref: EngramSetup,
  twin: TfjsAttentionWorkload,
  compareSteps: boolean,
): { first: number; firstMs: number; outputError: number; lossError?: number; wrong?: string } {
  const outputError = relativeDifference(twin.output(), ref.output());
  const t0 = performance.now();
  const first = twin.step();
  const firstMs = performance.now() - t0;
  const res: ReturnType<typeof checkAgainstEngram> = { first, firstMs, outputError };
  if (outputError > TFJS_OUTPUT_TOLERANCE) res.wrong = `output differs from Engram's by ${outputError.toExponential(1)} (relative)`;
  if (compareSteps) {
    const mine = [first, twin.step()];
    const theirs = [ref.step(), ref.step()];
    const lossError = Math.max(...mine.map((m, i) => Math.abs(m - theirs[i]!) / Math.max(Math.abs(theirs[i]!), 1e-12)));
    res.lossError = Number.isNaN(lossError) ? Infinity : lossError;
    if (!(res.lossError <= TFJS_LOSS_TOLERANCE))
      res.wrong ??= `values of two calls ${mine.map((m) => m.toPrecision(6)).join(", ")} vs Engram's ${theirs.map((m) => m.toPrecision(6)).join(", ")}`;
  }
  return res;
}

async function runTfjs(
  eg: Engram | undefined,
  ctx: SuiteContext,
  specs: readonly Spec[],
  put: (r: Row) => void,
  notes: string[],
): Promise<TfjsWasm | undefined> {
  const mine = specs.filter((s) => s.contenders.includes("tfjs-wasm"));
  if (mine.length === 0) return undefined;
  const skipAll = (reason: string): void => {
    for (const s of mine) put(skippedRow(s.w, "tfjs-wasm", reason));
    notes.push(`tfjs-wasm skipped: ${reason}`);
  };
  if (!eg) return void skipAll("Engram failed to load (the TF.js twins start from its weights and inputs)");
  ctx.log("tfjs-wasm: initialising");
  const loaded = await loadTfjsWasm();
  if (!loaded.ok) return void skipAll(loaded.reason);
  const tfw = loaded.value;
  try {
    await loadTfjsGradients();
  } catch (err) {
    return void skipAll(`tfjs-core's gradients failed to load: ${errorMessage(err)}`);
  }
  const native = eg.backendInfo().nativeAvailable;
  for (const spec of mine) {
    const w = spec.w;
    ctx.log(`${w.name}: tfjs-wasm`);
    let twin: TfjsAttentionWorkload | undefined;
    try {
      eg.setBackend(native ? "native" : "ts");
      const ref = await engramSetup(eg, spec.attn);
      twin = tfjsAttentionWorkload(tfw.tf, spec.attn, ref.tensors());
      const check = checkAgainstEngram(ref, twin, spec.attn.kind === "seq2seq-train");
      if (!Number.isFinite(check.first)) {
        put(skippedRow(w, "tfjs-wasm", `WRONG RESULT: the first call returned ${check.first}`));
        continue;
      }
      const checkParams = {
        check_output_error: Number(check.outputError.toPrecision(3)),
        ...(check.lossError !== undefined ? { check_value_error: Number(check.lossError.toPrecision(3)) } : {}),
      };
      if (check.firstMs > TFJS_MAX_CALL_MS) {
        put(skippedRow(w, "tfjs-wasm", `not measured: one call took ${(check.firstMs / 1000).toFixed(1)} s`));
        continue;
      }
      const m = measure(() => void twin!.step(), ctx.timing);
      const peak = spec.attn.kind === "causal-sdpa" ? await tfjsPeakKb(spec.attn) : undefined;
      const noteParts = [
        ...(check.wrong !== undefined ? [`WRONG RESULT: ${check.wrong}`] : []),
        ...(peak === undefined ? [] : [peakNote(peak)]),
      ];
      put(
        measuredRow(w, "tfjs-wasm", m.medianMs, {
          ...(noteParts.length > 0 ? { note: noteParts.join("; ") } : {}),
          params: {
            first_value: Number(check.first.toPrecision(6)),
            ...checkParams,
            ...(peak === undefined ? {} : { peak_delta_kb: peak }),
            threads: tfw.threads,
            ...timingParams(m),
          },
        }),
      );
    } catch (err) {
      put(skippedRow(w, "tfjs-wasm", `error: ${errorMessage(err)}`));
    } finally {
      twin?.dispose();
      if (native) eg.setBackend("native");
    }
  }
  return tfw;
}

type TorchOutput =
  | {
      info: TorchInfo;
      rows: (AttentionSpec & { first_value: number; median_ms: number; iterations: number; repeats: number; peak_delta_kb?: number })[];
    }
  | { skipped: string };

async function runTorch(
  ctx: SuiteContext,
  specs: readonly Spec[],
  threads: number,
  put: (r: Row) => void,
  notes: string[],
): Promise<TorchInfo | undefined> {
  const mine = specs.filter((s) => s.contenders.includes("pytorch"));
  if (mine.length === 0) return undefined;
  ctx.log(`pytorch: running bench/peers/torch_attention.py with ${threads} thread(s)`);
  const skipAll = (reason: string): void => {
    for (const s of mine) put(skippedRow(s.w, "pytorch", reason));
    notes.push(`pytorch skipped: ${reason}`);
  };
  const script = fileURLToPath(new URL("../peers/torch_attention.py", import.meta.url));
  const req = { timing: ctx.timing, threads, attention: mine.map((s) => s.attn) };
  const res = await runJsonPeer<TorchOutput>(pythonPath(), [script], { timeoutMs: 1_800_000, input: JSON.stringify(req) });
  if (!res.ok) return void skipAll(res.reason);
  if ("skipped" in res.value) return void skipAll(res.value.skipped);
  const { info, rows } = res.value;
  notes.push(describeTorch(info));
  for (const s of mine) {
    const found = rows.find((r) => r.kind === s.attn.kind);
    put(
      found
        ? measuredRow(s.w, "pytorch", found.median_ms, {
            ...(found.peak_delta_kb !== undefined ? { note: peakNote(found.peak_delta_kb) } : {}),
            params: {
              first_value: Number(found.first_value.toPrecision(6)),
              ...(found.peak_delta_kb !== undefined ? { peak_delta_kb: found.peak_delta_kb } : {}),
              threads: info.threads,
              iterations: found.iterations,
              repeats: found.repeats,
            },
          })
        : skippedRow(s.w, "pytorch", "peer returned no row"),
    );
  }
  return info;
}

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const results = new Map<string, Row>();
  const put = (r: Row): void => void results.set(`${r.workload}\u0000${r.contender}`, r);
  const notes: string[] = [];
  const contenders: Record<string, Record<string, unknown>> = {};
  const specs = attentionSpecs(ctx.quick, (w, c) => ctx.selected(w, c));
  let eg: Engram | undefined;
  try {
    eg = await import("../../src/index.js");
  } catch (err) {
    notes.push(`Engram failed to load: ${errorMessage(err)}`);
  }
  const threads = eg?.backendInfo().native?.threads ?? os.availableParallelism();
  if (eg) {
    const info = eg.backendInfo();
    contenders["engram-native"] = { backend_info: info };
    contenders["engram-ts"] = { backend_info: { backend: "ts" } };
    notes.push(
      info.nativeAvailable && info.native
        ? `engram native: GEMM ${info.native.blas}, ISA ${info.native.gemmKernel}, ${info.native.threads} threads (the fused attention kernel uses the built-in GEMM on its blocks)`
        : `engram native unavailable: ${info.nativeError ?? "no reason given"}`,
    );
    await runEngram(eg, ctx, specs, put);
  }
  const torchInfo = await runTorch(ctx, specs, threads, put, notes);
  if (torchInfo) contenders["pytorch"] = { ...torchInfo };
  const tfw = await runTfjs(eg, ctx, specs, put, notes);
  if (tfw) {
    contenders["tfjs-wasm"] = {
      version: tfw.version,
      variant: tfw.variant,
      threads: tfw.threads,
      ...(tfw.threadedError ? { threaded_error: tfw.threadedError } : {}),
    };
    notes.push(
      `tfjs-wasm ${tfw.version}: ran the ${tfw.variant} variant with ${tfw.threads} thread(s)` +
        (tfw.threadedError ? `; the threaded-simd variant failed in Node: ${tfw.threadedError}` : "") +
        `; each twin starts from the Engram model's initial weights and inputs; its output without dropout is checked against Engram's ` +
        `(check_output_error: max |difference| / max |Engram|), and the seq2seq losses of two training steps too (check_value_error, relative)`,
    );
  }
  notes.push(
    "peak_delta_kb (causal SDPA): VmHWM after one call minus before it, in a fresh process with the inputs allocated; " +
      "PyTorch's math path materialises the (8, T, T) scores, Engram's fused kernel O(T) per thread plus the output, " +
      "TF.js one head's (T, T) scores at a time (plus their scaled, masked and softmax copies) and the (T, T) mask it allocated beforehand",
  );
  notes.push(
    "targets: Engram native time <= 0.5 x PyTorch (causal SDPA, seq2seq train step), <= 0.7 x (MHA forward + backward), <= 0.8 x (encoder layer train step)",
  );
  const described: Record<string, Record<string, unknown>> = {};
  for (const id of new Set(specs.flatMap((s) => s.contenders)))
    described[id] = { description: CONTENDER_DESCRIPTIONS[id] ?? id, ...contenders[id] };
  const rows = specs.flatMap((s) =>
    s.contenders.map((c) => results.get(`${s.w.name}\u0000${c}`) ?? skippedRow(s.w, c, "not run (internal error: no result recorded)")),
  );
  return { rows, notes, contenders: described };
}

export const attentionSuite: Suite = {
  name: "attention",
  description:
    "Fused causal SDPA inference (T = 4096, time and peak memory), MultiHeadAttention, Transformer encoder layer and seq2seq (bi-GRU + Bahdanau) " +
    "training steps vs PyTorch and TF.js wasm",
  run,
};
