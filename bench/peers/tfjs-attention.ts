/**
 * The attention suite's workloads written with TF.js ops, for the "tfjs-wasm" contender of
 * bench/suites/attention.ts. TF.js has no attention layer: everything is composed from tf.matMul,
 * tf.softmax, elementwise ops, tf.variableGrads and tf.train.adam, with the GRU cells by hand. Each
 * workload takes its weights and inputs from the Engram twin (same names and shapes as Engram's
 * state dicts, weights (out, in)), so outputs and losses can be compared with Engram's.
 *
 * Matrix products: in tfjs-backend-wasm 4.22 a tf.matMul with a transposed operand, or with a batch
 * dimension, is much slower than an untransposed 2-D one (here: a 2048 x 256 x 256 linear layer's
 * forward + backward 0.7 s with tf.matMul's own gradient, 0.1 s with `mm`; 8 heads of 2048 x 64 x
 * 2048 scores 2.4-4 s batched, 0.4 s as 2-D calls on a pre-transposed K). So the linear layers use
 * `mm`, an untransposed 2-D product whose gradient also transposes explicitly, and the causal call
 * runs head by head; the small batched products of the MHA and encoder layer (128 x 64 per head)
 * stay batched tf.matMul calls, which was faster there than splitting them. The fastest way we
 * found to write these models in TF.js.
 *
 * Differences from the PyTorch twin that do not change the result: embeddings are one-hot products
 * (tfjs-backend-wasm has no kernel for tf.gather's gradient, UnsortedSegmentSum); the causal call
 * runs head by head (the per-head products above), so it never holds all heads' scores; the seq2seq
 * source mask is all true here, so the masked_fill is left out; the context is a weighted sum
 * (multiply and reduce) instead of a (1, S) x (S, A) product per row.
 *
 * Gradients: tfjs-core registers its gradient functions only from its ES-module build
 * (dist/register_all_gradients.js, which the @tensorflow/tfjs umbrella package imports); the CommonJS
 * build Node loads for "@tensorflow/tfjs-core" has none, so tf.variableGrads fails with "gradient
 * function not found". loadTfjsGradients imports that file. Its extensionless relative imports need
 * a resolve hook (Node's ES-module loader, and tsx on top of it, do not add ".js"); the copy of
 * tfjs-core it loads keeps the gradient registry and the engine in tfjs-core's globals, so they
 * apply to the engine the wasm backend runs in.
 *
 * Run directly, the file is the peak-memory probe of the causal workload (a fresh process, as
 * bench/attention-memory.ts is for Engram):
 *
 *   node --import tsx bench/peers/tfjs-attention.ts '{"batch":1,"heads":8,"seq":4096,"head_dim":64}'
 */
import { readFileSync } from "node:fs";
import { register } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Scalar, Tensor, Variable } from "@tensorflow/tfjs-core";
import type { AttentionSpec } from "../suites/attention.js";
import { loadTfjsWasm, type Tf } from "./tfjs-wasm.js";

const RESOLVE_HOOK = `export async function resolve(specifier, context, next) {
  if (specifier.startsWith(".") && !specifier.endsWith(".js") && context.parentURL?.includes("/@tensorflow/tfjs-core/dist/"))
    return next(specifier + ".js", context);
  return next(specifier, context);
}`;

let gradientsLoaded: Promise<void> | undefined;

/** Registers tfjs-core's gradient functions (see the file comment); needed once before tf.variableGrads / optimizers. */
export function loadTfjsGradients(): Promise<void> {
  gradientsLoaded ??= (async () => {
    register("data:text/javascript," + encodeURIComponent(RESOLVE_HOOK));
    await import("@tensorflow/tfjs-core/dist/register_all_gradients.js");
  })();
  return gradientsLoaded;
}

/** A tensor handed over from Engram: row-major data and shape. */
export interface HostTensor {
  data: Float32Array | Int32Array;
  shape: readonly number[];
}

export interface TfjsAttentionWorkload {
  /** One timed call (training step, or the inference call); returns the scalar the other contenders report. */
  step(): number;
  /** The forward output without dropout, at the current weights, for the comparison with Engram. */
  output(): Float32Array;
  dispose(): void;
}

/** Weights and inputs by name; a missing one is a bug in the caller, so it throws. */
function taker(tf: Tf, tensors: ReadonlyMap<string, HostTensor>): (name: string) => Tensor {
  return (name) => {
    const t = tensors.get(name);
    if (t === undefined) throw new Error(`tfjs-attention: no tensor ${JSON.stringify(name)}`);
    return tf.tensor(t.data, [...t.shape], t.data instanceof Int32Array ? "int32" : "float32");
  };
}

/**
 * x (N, K) x w (K, M) as one untransposed 2-D tf.matMul, with a gradient made of the same kind of
 * call on explicitly transposed operands (see the file comment).
 */
function makeMm(tf: Tf): (a: Tensor, b: Tensor) => Tensor {
  const f = tf.customGrad((...args) => {
    const [a, b, save] = args as [Tensor, Tensor, (t: Tensor[]) => void];
    save([a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy: Tensor, saved: Tensor[]) => [tf.matMul(dy, tf.transpose(saved[1]!)), tf.matMul(tf.transpose(saved[0]!), dy)],
    };
  });
  return (a, b) => f(a, b);
}

/** Trainable weight from an Engram tensor; a 2-D `transpose` weight (out, in) is stored (in, out) so products need no transpose. */
function variables(tf: Tf, take: (name: string) => Tensor, names: readonly string[], transposed: readonly string[]): Map<string, Variable> {
  const vars = new Map<string, Variable>();
  for (const n of names) {
    const t = take(n);
    const init = transposed.includes(n) ? tf.transpose(t) : t;
    vars.set(n, tf.variable(init, true, n));
    tf.dispose([t, init]);
  }
  return vars;
}

function getter(vars: ReadonlyMap<string, Variable>): (name: string) => Variable {
  return (name) => {
    const v = vars.get(name);
    if (v === undefined) throw new Error(`tfjs-attention: no variable ${JSON.stringify(name)}`);
    return v;
  };
}

/** x (..., in) -> x W^T + b with the weight stored transposed under `${prefix}.weight`. */
function linearOf(tf: Tf, mm: ReturnType<typeof makeMm>, v: (n: string) => Variable) {
  return (prefix: string, x: Tensor, bias = true): Tensor => {
    const w = v(`${prefix}.weight`);
    const lead = x.shape.slice(0, -1);
    const y = mm(tf.reshape(x, [-1, w.shape[0]]), w);
    return tf.reshape(bias ? tf.add(y, v(`${prefix}.bias`)) : y, [...lead, w.shape[1]!]);
  };
}

function causalSdpa(tf: Tf, s: Extract<AttentionSpec, { kind: "causal-sdpa" }>, take: (n: string) => Tensor): TfjsAttentionWorkload {
  const [q, k, v] = ["q", "k", "v"].map(take) as [Tensor, Tensor, Tensor];
  const { batch: b, heads: h, seq: t, head_dim: d } = s;
  const scale = 1 / Math.sqrt(d);
  // 0 where a query sees the key, -inf above the diagonal (masked_fill's effect)
  const bias = tf.tidy(() =>
    tf.where(tf.cast(tf.linalg.bandPart(tf.ones([t, t]), -1, 0), "bool"), tf.zeros([t, t]), tf.fill([t, t], -Infinity)),
  );
  const forward = (): Tensor =>
    tf.tidy(() => {
      const qs = tf.unstack(tf.reshape(q, [b * h, t, d]));
      const kts = tf.unstack(tf.transpose(tf.reshape(k, [b * h, t, d]), [0, 2, 1]));
      const vs = tf.unstack(tf.reshape(v, [b * h, t, d]));
      // head by head, each head's (T, T) scores freed before the next
      const outs = qs.map((qh, i) => tf.tidy(() => tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(qh, kts[i]!), scale), bias)), vs[i]!)));
      return tf.reshape(tf.stack(outs), [b, h, t, d]);
    });
  return {
    step: () => {
      const out = forward();
      const m = tf.mean(out);
      const value = m.dataSync()[0]!;
      tf.dispose([out, m]);
      return value;
    },
    output: () => {
      const out = forward();
      const data = out.dataSync() as Float32Array;
      out.dispose();
      return data;
    },
    dispose: () => tf.dispose([q, k, v, bias]),
  };
}

/** Self-attention of x (B, T, E) through the qProj/kProj/vProj/outProj weights under `prefix`. */
function selfAttention(tf: Tf, linear: ReturnType<typeof linearOf>, prefix: string, x: Tensor, heads: number, dropout: number): Tensor {
  const [b, t, e] = x.shape as [number, number, number];
  const d = e / heads;
  const split = (name: string): Tensor => tf.transpose(tf.reshape(linear(`${prefix}${name}`, x), [b, t, heads, d]), [0, 2, 1, 3]); // (B, H, T, D)
  const q = split("qProj");
  const k = split("kProj");
  const v = split("vProj");
  let w = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d)));
  if (dropout > 0) w = tf.dropout(w, dropout);
  const merged = tf.reshape(tf.transpose(tf.matMul(w, v), [0, 2, 1, 3]), [b, t, e]);
  return linear(`${prefix}outProj`, merged);
}

const MHA_NAMES = ["qProj", "kProj", "vProj", "outProj"].flatMap((p) => [`${p}.weight`, `${p}.bias`]);

function mhaTrain(tf: Tf, s: Extract<AttentionSpec, { kind: "mha-train" }>, take: (n: string) => Tensor): TfjsAttentionWorkload {
  const mm = makeMm(tf);
  const vars = variables(
    tf,
    take,
    MHA_NAMES,
    MHA_NAMES.filter((n) => n.endsWith(".weight")),
  );
  const linear = linearOf(tf, mm, getter(vars));
  const x = take("x");
  const forward = (): Tensor => selfAttention(tf, linear, "", x, s.heads, 0);
  return {
    step: () => {
      const { value, grads } = tf.variableGrads(() => tf.sum<Scalar>(forward()), [...vars.values()]);
      const loss = value.dataSync()[0]!;
      tf.dispose([value, ...Object.values(grads)]);
      return loss;
    },
    output: () => {
      const out = tf.tidy(forward);
      const data = out.dataSync() as Float32Array;
      out.dispose();
      return data;
    },
    dispose: () => tf.dispose([x, ...vars.values()]),
  };
}

function layerNorm(tf: Tf, x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), weight), bias);
}

function encoderLayerTrain(
  tf: Tf,
  s: Extract<AttentionSpec, { kind: "encoder-layer-train" }>,
  take: (n: string) => Tensor,
): TfjsAttentionWorkload {
  if (s.norm !== "post") throw new Error(`tfjs-attention: encoder layer norm "${s.norm}" is not written (only "post")`);
  const mm = makeMm(tf);
  const names = [
    ...MHA_NAMES.map((n) => `selfAttn.${n}`),
    ...["linear1", "linear2", "norm1", "norm2"].flatMap((p) => [`${p}.weight`, `${p}.bias`]),
  ];
  const vars = variables(
    tf,
    take,
    names,
    names.filter((n) => n.endsWith(".weight") && !n.startsWith("norm")),
  );
  const v = getter(vars);
  const linear = linearOf(tf, mm, v);
  const x = take("x");
  const target = take("target");
  const optimizer = tf.train.adam(1e-4, 0.9, 0.999, 1e-8);
  const drop = (t: Tensor, p: number): Tensor => (p > 0 ? tf.dropout(t, p) : t);
  // post-norm: x1 = LN1(x + drop(SA(x))), out = LN2(x1 + drop(FF(x1))), FF = linear2(drop(relu(linear1(.))))
  const forward = (p: number): Tensor => {
    const a = selfAttention(tf, linear, "selfAttn.", x, s.heads, p);
    const x1 = layerNorm(tf, tf.add(x, drop(a, p)), v("norm1.weight"), v("norm1.bias"), 1e-5);
    const ff = linear("linear2", drop(tf.relu(linear("linear1", x1)), p));
    return layerNorm(tf, tf.add(x1, drop(ff, p)), v("norm2.weight"), v("norm2.bias"), 1e-5);
  };
  return {
    step: () => {
      const cost = optimizer.minimize(() => tf.mean<Scalar>(tf.squaredDifference(forward(s.dropout), target)), true, [...vars.values()])!;
      const loss = cost.dataSync()[0]!;
      cost.dispose();
      return loss;
    },
    output: () => {
      const out = tf.tidy(() => forward(0));
      const data = out.dataSync() as Float32Array;
      out.dispose();
      return data;
    },
    dispose: () => {
      optimizer.dispose();
      tf.dispose([x, target, ...vars.values()]);
    },
  };
}

function seq2seqTrain(tf: Tf, s: Extract<AttentionSpec, { kind: "seq2seq-train" }>, take: (n: string) => Tensor): TfjsAttentionWorkload {
  const { batch: B, src_len: S, tgt_len: T, vocab: V, embed: E, hidden: H } = s;
  const A = 2 * H;
  const maxout = Math.ceil(H / 2);
  const mm = makeMm(tf);
  const enc = ["weightIh_l0", "weightHh_l0", "biasIh_l0", "biasHh_l0"].flatMap((n) => [`encoder.${n}`, `encoder.${n}_reverse`]);
  const names = [
    "srcEmbed.weight",
    ...enc,
    "tgtEmbed.weight",
    "bridge.weight",
    "attention.v",
    "attention.queryProj.weight",
    "attention.keyProj.weight",
    "decoder.weightIh",
    "decoder.weightHh",
    "decoder.biasIh",
    "decoder.biasHh",
    "deepOutput.weight",
    "deepOutput.bias",
    "outProj.weight",
    "outProj.bias",
  ];
  const transposed = names.filter((n) => /weight(Ih|Hh)|Proj\.weight|bridge|deepOutput\.weight|outProj\.weight/.test(n));
  const vars = variables(tf, take, names, transposed);
  const v = getter(vars);
  const linear = linearOf(tf, mm, v);
  // time-major one-hot inputs, built once: (steps * B, V), row t * B + b
  const oneHot = (name: string, steps: number): Tensor =>
    // int32 then cast: the wasm OneHot kernel asked for float32 writes int32 bit patterns (1 reads as 1.4e-45)
    tf.tidy(() => tf.cast(tf.oneHot(tf.reshape(tf.transpose(tf.reshape(take(name), [B, steps])), [-1]), V), "float32"));
  const src = oneHot("src", S);
  const decIn = oneHot("decoderInput", T);
  const target = oneHot("target", T);
  const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);

  /** PyTorch's GRU cell from the input share xp (B, 3H) and the state h: r, z, n gates. */
  const gru = (xp: Tensor, h: Tensor, wHhT: Tensor, bHh: Tensor): Tensor => {
    const [xr, xz, xn] = tf.split(xp, 3, -1) as [Tensor, Tensor, Tensor];
    const [hr, hz, hn] = tf.split(tf.add(mm(h, wHhT), bHh), 3, -1) as [Tensor, Tensor, Tensor];
    const r = tf.sigmoid(tf.add(xr, hr));
    const z = tf.sigmoid(tf.add(xz, hz));
    const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
    return tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
  };

  /** One direction of the encoder over x (S*B, E): states (S, B, H) in time order. */
  const encodeDirection = (x: Tensor, suffix: string): Tensor[] => {
    const xp = tf.unstack(tf.reshape(tf.add(mm(x, v(`encoder.weightIh_l0${suffix}`)), v(`encoder.biasIh_l0${suffix}`)), [S, B, 3 * H]));
    const order = suffix === "" ? xp.map((_, i) => i) : xp.map((_, i) => S - 1 - i);
    let h: Tensor = tf.zeros([B, H]);
    const out: Tensor[] = new Array<Tensor>(S);
    for (const t of order) {
      h = gru(xp[t]!, h, v(`encoder.weightHh_l0${suffix}`), v(`encoder.biasHh_l0${suffix}`));
      out[t] = h;
    }
    return out;
  };

  /** Logits (T*B, V) of the teacher-forced decoder. */
  const logits = (): Tensor => {
    const x = mm(src, v("srcEmbed.weight")); // (S*B, E)
    const fwd = encodeDirection(x, "");
    const bwd = encodeDirection(x, "_reverse");
    const ann = tf.transpose(tf.concat([tf.stack(fwd), tf.stack(bwd)], -1), [1, 0, 2]); // (B, S, A)
    const keys = linear("attention.keyProj", ann, false); // (B, S, H)
    let state = tf.tanh(linear("bridge", bwd[0]!, false));
    const emb = mm(decIn, v("tgtEmbed.weight")); // (T*B, E)
    const wIh = v("decoder.weightIh"); // (E + A, 3H)
    const xps = tf.unstack(tf.reshape(tf.add(mm(emb, tf.slice(wIh, [0, 0], [E, 3 * H])), v("decoder.biasIh")), [T, B, 3 * H]));
    const wCtx = tf.slice(wIh, [E, 0], [A, 3 * H]);
    const vCol = tf.reshape(v("attention.v"), [H, 1]);
    const states: Tensor[] = [];
    const contexts: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      // v . tanh(W s + U h_j), softmax over the source, context = sum_j a_j h_j
      const act = tf.tanh(tf.add(tf.expandDims(linear("attention.queryProj", state, false), 1), keys)); // (B, S, H)
      const weights = tf.softmax(tf.reshape(mm(tf.reshape(act, [B * S, H]), vCol), [B, S]));
      const context = tf.sum(tf.mul(tf.expandDims(weights, 2), ann), 1); // (B, A)
      state = gru(tf.add(xps[t]!, mm(context, wCtx)), state, v("decoder.weightHh"), v("decoder.biasHh"));
      states.push(state);
      contexts.push(context);
    }
    const deep = tf.concat([tf.reshape(tf.stack(states), [T * B, H]), emb, tf.reshape(tf.stack(contexts), [T * B, A])], -1);
    const pre = linear("deepOutput", deep);
    const t = tf.maximum(tf.slice(pre, [0, 0], [T * B, maxout]), tf.slice(pre, [0, maxout], [T * B, maxout]));
    return linear("outProj", t);
  };
  const loss = (): Scalar => tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits())), -1))) as Scalar;
  return {
    step: () => {
      const cost = optimizer.minimize(loss, true, [...vars.values()])!;
      const value = cost.dataSync()[0]!;
      cost.dispose();
      return value;
    },
    output: () => {
      const out = tf.tidy(logits);
      const data = out.dataSync() as Float32Array;
      out.dispose();
      return data;
    },
    dispose: () => {
      optimizer.dispose();
      tf.dispose([src, decIn, target, ...vars.values()]);
    },
  };
}

/**
 * The TF.js twin of one attention workload on `tensors`: the Engram model's named parameters plus
 * the inputs (causal: q, k, v; MHA: x; encoder layer: x, target; seq2seq: src, target, decoderInput, int32 (B, L)).
 */
export function tfjsAttentionWorkload(tf: Tf, spec: AttentionSpec, tensors: ReadonlyMap<string, HostTensor>): TfjsAttentionWorkload {
  const take = taker(tf, tensors);
  switch (spec.kind) {
    case "causal-sdpa":
      return causalSdpa(tf, spec, take);
    case "mha-train":
      return mhaTrain(tf, spec, take);
    case "encoder-layer-train":
      return encoderLayerTrain(tf, spec, take);
    case "seq2seq-train":
      return seq2seqTrain(tf, spec, take);
  }
}

function vmHwmKb(): number {
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmHWM:"));
  return line === undefined ? -1 : Number(line.split(/\s+/)[1]);
}

/** The causal workload's peak-memory probe: inputs allocated, a small call warms the code, then VmHWM around one call. */
async function probePeakMemory(arg: string): Promise<void> {
  const req = JSON.parse(arg) as Extract<AttentionSpec, { kind: "causal-sdpa" }>;
  const loaded = await loadTfjsWasm();
  if (!loaded.ok) {
    process.stdout.write(JSON.stringify({ skipped: loaded.reason }) + "\n");
    return;
  }
  const { tf } = loaded.value;
  const random = (shape: number[]): HostTensor => ({ data: tf.randomNormal(shape, 0, 1, "float32", 1).dataSync() as Float32Array, shape });
  const inputs = (seq: number): Map<string, HostTensor> => {
    const shape = [req.batch, req.heads, seq, req.head_dim];
    return new Map(["q", "k", "v"].map((n) => [n, random(shape)]));
  };
  const small = tfjsAttentionWorkload(tf, { ...req, seq: 64 }, inputs(64));
  small.step();
  small.dispose();
  const big = tfjsAttentionWorkload(tf, req, inputs(req.seq));
  const before = vmHwmKb();
  const first = big.step();
  process.stdout.write(JSON.stringify({ peak_delta_kb: vmHwmKb() - before, first_value: first }) + "\n");
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await probePeakMemory(process.argv[2] ?? "{}");
