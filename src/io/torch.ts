/**
 * PyTorch state dicts in and out: keys renamed through the one mapping in src/nn/torch-names.ts
 * (`weight_ih_l0` <-> `weightIh_l0`, `self_attn.in_proj_weight` <-> `selfAttn.inProjWeight`).
 * Tensor layouts of every module with a PyTorch twin match PyTorch's (Linear weight is
 * (out, in), LSTM gates are i, f, g, o), so only names change. Save a PyTorch model with
 * `safetensors.torch.save_file(model.state_dict(), path)` and load it with `loadTorchStateDict`.
 */
import type { Tensor } from "../autograd/tensor.js";
import type { LoadStateDictOptions, LoadStateDictResult, Module } from "../nn/module.js";
import { engramToTorchKey, torchToEngramKey } from "../nn/torch-names.js";

/** Loads a PyTorch-named state dict (from `decodeSafetensors(...).tensors`, say) into an Engram module. */
export function loadTorchStateDict(
  module: Module,
  sd: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  opts: LoadStateDictOptions = {},
): LoadStateDictResult {
  const entries: [string, Tensor][] =
    sd instanceof Map ? [...(sd as ReadonlyMap<string, Tensor>)] : Object.entries(sd as Readonly<Record<string, Tensor>>);
  return module.loadStateDict(new Map(entries.map(([k, t]) => [torchToEngramKey(k), t])), opts);
}

/** The module's state dict under PyTorch's names, ready for `encodeSafetensors` and `load_file` in Python. */
export function torchStateDict(module: Module): Map<string, Tensor> {
  return new Map([...module.stateDict()].map(([k, t]) => [engramToTorchKey(k), t]));
}
