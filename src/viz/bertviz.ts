/**
 * Export of attention maps in the layout bertviz's `head_view` and `model_view` take (checked
 * against bertviz's head_view.py/model_view.py): per layer one array [heads][queries][keys].
 *
 * - A self-attention model becomes `{ tokens, attention }`.
 * - An encoder-decoder model becomes `{ encoder_tokens, decoder_tokens, encoder_attention?,
 *   decoder_attention?, cross_attention? }`; cross attention is [heads][decoder tokens][encoder tokens].
 *
 * The keys are bertviz's keyword-argument names and nothing else is added, so in Python
 *   d = json.load(open("bertviz.json"))
 *   head_view(**{k: [torch.tensor(l)[None] for l in v] if k.endswith("attention") else v for k, v in d.items()})
 * works as is (bertviz wants a batch dimension of 1 on each layer, which JSON leaves out).
 *
 * Maps are stacked by family (`mapGroup`: the name without "layer N"/"head N"). A family whose
 * row and column labels are the same sequence is self-attention, named encoder unless its name
 * says decoder; any other family is cross attention.
 */
import { ArgumentError } from "../core/errors.js";
import type { WeightMap } from "../models/task-model.js";
import { checkWeightMap, mapGroup } from "./weight-map.js";

/** [layer][head][query][key]. */
export type LayerStack = number[][][][];

export interface BertvizSelfAttention {
  tokens: string[];
  attention: LayerStack;
}

export interface BertvizEncoderDecoder {
  encoder_tokens: string[];
  decoder_tokens: string[];
  encoder_attention?: LayerStack;
  decoder_attention?: LayerStack;
  cross_attention?: LayerStack;
}

export type BertvizData = BertvizSelfAttention | BertvizEncoderDecoder;

type Role = "encoder" | "decoder" | "cross";

interface Family {
  name: string;
  role: Role;
  rowLabels: readonly string[];
  colLabels: readonly string[];
  stack: LayerStack;
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Float32 values as short JSON numbers (7 significant digits); non-finite entries become 0. */
function rows(map: WeightMap): number[][] {
  const cols = map.colLabels.length;
  return map.rowLabels.map((_, i) =>
    Array.from(map.values.subarray(i * cols, (i + 1) * cols), (v) => (Number.isFinite(v) ? Number(v.toPrecision(7)) : 0)),
  );
}

function stackFamily(name: string, maps: readonly WeightMap[]): Family {
  const first = maps[0]!;
  const layers = [...new Set(maps.map((m) => m.layer ?? 0))].sort((a, b) => a - b);
  const heads = [...new Set(maps.map((m) => m.head ?? 0))].sort((a, b) => a - b);
  const byKey = new Map<string, WeightMap>();
  for (const m of maps) {
    if (!sameLabels(m.rowLabels, first.rowLabels) || !sameLabels(m.colLabels, first.colLabels))
      throw new ArgumentError(`bertviz: the maps of ${JSON.stringify(name)} do not share their row and column tokens`);
    const key = `${m.layer ?? 0}/${m.head ?? 0}`;
    if (byKey.has(key))
      throw new ArgumentError(`bertviz: ${JSON.stringify(name)} has two maps for layer ${m.layer ?? 0} head ${m.head ?? 0}`);
    byKey.set(key, m);
  }
  const stack = layers.map((l) =>
    heads.map((h) => {
      const m = byKey.get(`${l}/${h}`);
      if (m === undefined) throw new ArgumentError(`bertviz: ${JSON.stringify(name)} has no map for layer ${l} head ${h}`);
      return rows(m);
    }),
  );
  const self = sameLabels(first.rowLabels, first.colLabels) && !/cross/i.test(name);
  const role: Role = !self ? "cross" : /decoder/i.test(name) ? "decoder" : "encoder";
  return { name, role, rowLabels: first.rowLabels, colLabels: first.colLabels, stack };
}

/** The maps in bertviz's layout; an ArgumentError says why when they do not fit it. */
export function bertvizData(maps: readonly WeightMap[]): BertvizData {
  if (maps.length === 0) throw new ArgumentError("bertviz: no weight maps to export");
  for (const m of maps) checkWeightMap("bertviz", m);
  const groups = new Map<string, WeightMap[]>();
  for (const m of maps) {
    const g = mapGroup(m);
    groups.set(g, [...(groups.get(g) ?? []), m]);
  }
  const families = [...groups].map(([name, ms]) => stackFamily(name, ms));
  const byRole = new Map<Role, Family>();
  for (const f of families) {
    const other = byRole.get(f.role);
    if (other !== undefined) {
      throw new ArgumentError(
        `bertviz: both ${JSON.stringify(other.name)} and ${JSON.stringify(f.name)} look like ${f.role} attention; choose one with --map`,
      );
    }
    byRole.set(f.role, f);
  }
  const enc = byRole.get("encoder");
  const dec = byRole.get("decoder");
  const cross = byRole.get("cross");
  if (families.length === 1 && families[0]!.role !== "cross") {
    const only = families[0]!;
    return { tokens: [...only.rowLabels], attention: only.stack };
  }
  // two or more families with distinct roles: the encoder or the cross family is among them, and so
  // is the decoder or the cross family
  const encoderTokens = (enc?.rowLabels ?? cross?.colLabels)!;
  const decoderTokens = (dec?.rowLabels ?? cross?.rowLabels)!;
  // Cross-attention rows are the decoder positions; a model may label them by the token each position
  // writes while its self-attention labels them by the token fed in (shifted by one), so only their
  // number must agree; bertviz shows the decoder's own tokens.
  if (cross !== undefined && (!sameLabels(cross.colLabels, encoderTokens) || cross.rowLabels.length !== decoderTokens.length)) {
    throw new ArgumentError(`bertviz: the tokens of ${JSON.stringify(cross.name)} differ from the encoder's or decoder's`);
  }
  return {
    encoder_tokens: [...encoderTokens],
    decoder_tokens: [...decoderTokens],
    ...(enc ? { encoder_attention: enc.stack } : {}),
    ...(dec ? { decoder_attention: dec.stack } : {}),
    ...(cross ? { cross_attention: cross.stack } : {}),
  };
}

/** `bertvizData` as JSON text. */
export function bertvizJson(maps: readonly WeightMap[]): string {
  return JSON.stringify(bertvizData(maps)) + "\n";
}
