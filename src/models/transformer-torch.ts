/**
 * PyTorch 1.13 Transformer weights into Engram's layers and stacks:
 *
 *   self_attn.{in_proj_weight, in_proj_bias, out_proj.*}   -> selfAttn  (via loadTorchMultiheadAttention)
 *   multihead_attn.*                                       -> crossAttn (decoder layers)
 *   linear1.*, linear2.*, norm1.*, norm2.*, norm3.*        -> the same names
 *   layers.{i}.* and norm.* (nn.TransformerEncoder / nn.TransformerDecoder)
 *   encoder.* and decoder.* (nn.Transformer)
 *
 * The state dict carries no configuration: build the Engram module with the PyTorch module's
 * norm_first (norm "pre"), activation, layer_norm_eps and batch_first, and pass PyTorch's masks
 * inverted (true = attend here). Every loader is strict (a missing or unknown key throws a
 * CheckpointError) and all-or-nothing (on any error the module keeps its previous weights).
 */
import { Tensor } from "../autograd/tensor.js";
import { ArgumentError, CheckpointError } from "../core/errors.js";
import { loadTorchMultiheadAttention, type MultiHeadAttention } from "../attention/multi-head.js";
import type { Module } from "../nn/module.js";
import { TransformerDecoderLayer, TransformerEncoderLayer } from "./transformer-layers.js";
import { TransformerDecoder, TransformerEncoder } from "./transformer.js";

type TorchStateDict = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

function entriesOf(sd: TorchStateDict): Map<string, Tensor> {
  return new Map<string, Tensor>(sd instanceof Map ? sd : Object.entries(sd as Record<string, Tensor>));
}

/** The entries under `prefix` (prefix removed), deleting them from `src`. */
function takePrefix(src: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of src) {
    if (k.startsWith(prefix)) {
      out.set(k.slice(prefix.length), t);
      src.delete(k);
    }
  }
  return out;
}

/** Runs `load`; if it throws, the module's previous parameters are restored before rethrowing. */
function atomically(module: Module, load: () => void): void {
  const backup = new Map([...module.stateDict()].map(([k, t]) => [k, new Tensor(t.data.slice(), t.shape, t.dtype)]));
  try {
    load();
  } catch (e) {
    module.loadStateDict(backup);
    throw e;
  }
}

function rejectLeftovers(op: string, rest: Map<string, Tensor>, prefix = ""): void {
  if (rest.size > 0) throw new CheckpointError(`${op}: unexpected keys: ${[...rest.keys()].map((k) => prefix + k).join(", ")}`);
}

const FEED_FORWARD = ["linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias"];
const norms = (n: number): string[] => Array.from({ length: n }, (_, i) => [`norm${i + 1}.weight`, `norm${i + 1}.bias`]).flat();

/** Loads a layer's feed-forward and norm keys (same names in both libraries); leaves other keys in `src`. */
function loadPlain(op: string, layer: Module, src: Map<string, Tensor>, keys: readonly string[]): void {
  const sd = new Map<string, Tensor>();
  for (const k of keys) {
    const t = src.get(k);
    if (!(t instanceof Tensor)) throw new CheckpointError(`${op}: state dict has no tensor ${JSON.stringify(k)}`);
    sd.set(k, t);
    src.delete(k);
  }
  // the attention keys are loaded separately, so only these are checked here
  layer.loadStateDict(sd, { strict: false });
}

/** The `prefix`* keys into `attn`, with errors that name the prefix. */
function loadAttention(op: string, attn: MultiHeadAttention, src: Map<string, Tensor>, prefix: string): void {
  const sub = takePrefix(src, prefix);
  if (sub.size === 0) throw new CheckpointError(`${op}: state dict has no ${prefix}* keys`);
  try {
    loadTorchMultiheadAttention(attn, sub);
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointError(`${op}: ${prefix}*: ${e.message}`);
    throw e;
  }
}

function loadEncoderLayer(op: string, layer: TransformerEncoderLayer, src: Map<string, Tensor>): void {
  loadAttention(op, layer.selfAttn, src, "self_attn.");
  loadPlain(op, layer, src, [...FEED_FORWARD, ...norms(2)]);
}

function loadDecoderLayer(op: string, layer: TransformerDecoderLayer, src: Map<string, Tensor>): void {
  loadAttention(op, layer.selfAttn, src, "self_attn.");
  loadAttention(op, layer.crossAttn, src, "multihead_attn.");
  loadPlain(op, layer, src, [...FEED_FORWARD, ...norms(3)]);
}

/** Loads a torch.nn.TransformerEncoderLayer state dict into `layer`. */
export function loadTorchTransformerEncoderLayer(layer: TransformerEncoderLayer, sd: TorchStateDict): void {
  const op = "loadTorchTransformerEncoderLayer";
  if (!(layer instanceof TransformerEncoderLayer)) throw new ArgumentError(`${op}: layer must be a TransformerEncoderLayer`);
  const src = entriesOf(sd);
  atomically(layer, () => {
    loadEncoderLayer(op, layer, src);
    rejectLeftovers(op, src);
  });
}

/** Loads a torch.nn.TransformerDecoderLayer state dict into `layer` (multihead_attn becomes crossAttn). */
export function loadTorchTransformerDecoderLayer(layer: TransformerDecoderLayer, sd: TorchStateDict): void {
  const op = "loadTorchTransformerDecoderLayer";
  if (!(layer instanceof TransformerDecoderLayer)) throw new ArgumentError(`${op}: layer must be a TransformerDecoderLayer`);
  const src = entriesOf(sd);
  atomically(layer, () => {
    loadDecoderLayer(op, layer, src);
    rejectLeftovers(op, src);
  });
}

/** layers.{i}.* and, when the stack has a final norm, norm.* */
function loadStack<L extends Module>(
  op: string,
  stack: Module & { layers: L[]; norm: Module | null },
  src: Map<string, Tensor>,
  loadLayer: (layer: L, sub: Map<string, Tensor>) => void,
): void {
  stack.layers.forEach((layer, i) => {
    const sub = takePrefix(src, `layers.${i}.`);
    if (sub.size === 0)
      throw new CheckpointError(`${op}: state dict has no keys for layers.${i} (the module has ${stack.layers.length} layers)`);
    loadLayer(layer, sub);
    rejectLeftovers(op, sub, `layers.${i}.`);
  });
  const norm = takePrefix(src, "norm.");
  if (stack.norm) {
    if (norm.size === 0)
      throw new CheckpointError(`${op}: state dict has no final norm (norm.weight, norm.bias); build the stack with finalNorm false`);
    stack.norm.loadStateDict(norm);
  } else if (norm.size > 0) {
    throw new CheckpointError(`${op}: state dict has a final norm but the stack has none; build it with finalNorm true`);
  }
}

/** Loads a torch.nn.TransformerEncoder state dict (layers.{i}.*, norm.*) into `encoder`. */
export function loadTorchTransformerEncoder(encoder: TransformerEncoder, sd: TorchStateDict): void {
  const op = "loadTorchTransformerEncoder";
  if (!(encoder instanceof TransformerEncoder)) throw new ArgumentError(`${op}: encoder must be a TransformerEncoder`);
  const src = entriesOf(sd);
  atomically(encoder, () => {
    loadStack(op, encoder, src, (layer, sub) => loadEncoderLayer(op, layer, sub));
    rejectLeftovers(op, src);
  });
}

/** Loads a torch.nn.TransformerDecoder state dict (layers.{i}.*, norm.*) into `decoder`. */
export function loadTorchTransformerDecoder(decoder: TransformerDecoder, sd: TorchStateDict): void {
  const op = "loadTorchTransformerDecoder";
  if (!(decoder instanceof TransformerDecoder)) throw new ArgumentError(`${op}: decoder must be a TransformerDecoder`);
  const src = entriesOf(sd);
  atomically(decoder, () => {
    loadStack(op, decoder, src, (layer, sub) => loadDecoderLayer(op, layer, sub));
    rejectLeftovers(op, src);
  });
}

/**
 * Loads a torch.nn.Transformer state dict (encoder.*, decoder.*) into an encoder and decoder stack
 * (nn.Transformer always has both final norms, so build the stacks with finalNorm true).
 */
export function loadTorchTransformer(encoder: TransformerEncoder, decoder: TransformerDecoder, sd: TorchStateDict): void {
  const op = "loadTorchTransformer";
  const src = entriesOf(sd);
  const enc = takePrefix(src, "encoder.");
  const dec = takePrefix(src, "decoder.");
  rejectLeftovers(op, src);
  // the decoder loader restores the decoder on failure; this restores the encoder too
  atomically(encoder, () => {
    loadTorchTransformerEncoder(encoder, enc);
    loadTorchTransformerDecoder(decoder, dec);
  });
}
