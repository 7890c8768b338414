/**
 * The one place that maps PyTorch state-dict keys to Engram keys and back. Engram fields are the
 * camelCase of PyTorch's snake_case names, segment by segment, except that recurrent layer
 * suffixes keep their underscores so the layer index stays readable:
 *
 *   weight_ih_l0          <-> weightIh_l0          (RNN / LSTM / GRU)
 *   bias_hh_l1_reverse    <-> biasHh_l1_reverse
 *   weight_ih             <-> weightIh             (RNNCell / LSTMCell / GRUCell)
 *   layers.0.self_attn.in_proj_weight <-> layers.0.selfAttn.inProjWeight
 *   running_mean          <-> runningMean
 *
 * Numeric segments (`layers.0`) and names without underscores (`weight`, `linear1`) are unchanged.
 * Layout differences between a PyTorch module and its Engram twin, where any, are the io layer's
 * business; this file only renames.
 */

/** Splits `weight_ih_l0_reverse` into the name part and the `_l0_reverse` suffix. */
const LAYER_SUFFIX = /^(.*?)(_l\d+(?:_reverse)?)$/;

function snakeToCamel(s: string): string {
  return s.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function camelToSnake(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

function mapSegment(segment: string, convert: (s: string) => string): string {
  if (/^\d+$/.test(segment)) return segment;
  const m = LAYER_SUFFIX.exec(segment);
  return m ? convert(m[1]!) + m[2]! : convert(segment);
}

/** `layers.0.self_attn.out_proj.weight` -> `layers.0.selfAttn.outProj.weight`. */
export function torchToEngramKey(key: string): string {
  return key
    .split(".")
    .map((s) => mapSegment(s, snakeToCamel))
    .join(".");
}

/** `rnn.weightHh_l1_reverse` -> `rnn.weight_hh_l1_reverse`. */
export function engramToTorchKey(key: string): string {
  return key
    .split(".")
    .map((s) => mapSegment(s, camelToSnake))
    .join(".");
}
