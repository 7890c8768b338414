/**
 * `lstm-attention`: the attention baseline for question-answering tasks (associative retrieval,
 * bAbI). An LSTM reads the one-hot symbols of the sequence (a story word by word, then its
 * question; see `readingSequence`), then additive (Bahdanau) attention from the final state over
 * every state of the read gives a context, and a linear head answers from context and final state:
 *   h_t = LSTM(x_t, h_{t-1}),  a = softmax_t(v^T tanh(W h_T + U h_t)),  c = sum_t a_t h_t
 *   answer = softmax(W_o [c; h_T] + b_o)
 * trained by cross-entropy over the rows the mask counts. It sits between `lstm-qa` (the final
 * state alone) and the memory models: it can look back at any step, but only once, with one query.
 * Padding never counts: the LSTM freezes a row's state after its last step and the attention is
 * masked to the row's length.
 * State-dict keys: `lstm.*` (PyTorch's LSTM layout), `attention.v` (A), `attention.queryProj.weight`
 * (A, H), `attention.keyProj.weight` (A, H), `head.weight` (V, 2H) (context columns first),
 * `head.bias` (V).
 */
import { noGrad } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { AdditiveAttention } from "../attention/additive.js";
import { ArgumentError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { answerLoss, readingSequence } from "../memory/fast-weights.js";
import { Linear } from "../nn/linear.js";
import { Module, type ParameterFloatOptions } from "../nn/module.js";
import { LSTM } from "../nn/rnn.js";
import { positiveInt } from "../nn/util.js";
import { concat, narrow, oneHot, reshape } from "../ops/shape.js";
import type { Batch, Task } from "../tasks/task.js";
import { intOption, type Inspection, type InspectableModel, type ModelConfig, type ModelSpec, type TaskModel } from "./task-model.js";

export interface LstmAttentionOptions extends ParameterFloatOptions {
  hiddenSize: number;
  numLayers?: number;
  /** Width A of the attention's tanh layer (default hiddenSize). */
  attentionSize?: number;
  generator?: Generator;
  /** Token strings, for inspection labels. */
  vocabulary?: readonly string[];
}

export interface LstmAttentionResult {
  /** (B, V) answer logits. */
  logits: Tensor;
  /** (B, T) attention of the final state over the read steps (0 past each row's length). */
  weights: Tensor;
}

export class LstmAttention extends Module implements TaskModel, InspectableModel {
  readonly vocabularySize: number;
  readonly lstm: LSTM;
  readonly attention: AdditiveAttention;
  readonly head: Linear;
  private readonly vocabulary: readonly string[] | undefined;

  constructor(vocabularySize: number, opts: LstmAttentionOptions) {
    super();
    const op = "LstmAttention";
    this.vocabularySize = positiveInt(op, vocabularySize, "vocabularySize", 1);
    const hidden = positiveInt(op, opts.hiddenSize, "hiddenSize", 1);
    const attentionSize = positiveInt(op, opts.attentionSize ?? hidden, "attentionSize", 1);
    const common = { ...(opts.dtype ? { dtype: opts.dtype } : {}), ...(opts.generator ? { generator: opts.generator } : {}) };
    this.lstm = new LSTM(vocabularySize, hidden, { numLayers: opts.numLayers ?? 1, batchFirst: true, ...common });
    this.attention = new AdditiveAttention(hidden, hidden, { hidden: attentionSize, ...common });
    this.head = new Linear(2 * hidden, vocabularySize, common);
    this.vocabulary = opts.vocabulary;
  }

  /** ids int32 [B, T] with row lengths -> answer logits [B, V] and the attention weights [B, T]. */
  forward(ids: Tensor, lengths: Int32Array): LstmAttentionResult {
    const x = oneHot(ids, this.vocabularySize, { dtype: this.lstm.dtype });
    const rows = Array.from(lengths);
    // states past a row's length are zeros and its hN is the state at lengths[b] - 1
    const { output, hN } = this.lstm.forward(x, { lengths: rows });
    const [layers, B, H] = hN.shape as [number, number, number];
    const last = reshape(narrow(hN, 0, layers - 1, 1), [B, H]);
    const { output: context, weights } = this.attention.forward(last, output, output, { lengths: rows });
    return { logits: this.head.forward(concat([context, last], 1)), weights };
  }

  loss(batch: Batch): Tensor {
    const { ids, lengths } = readingSequence("LstmAttention.loss", batch, this.vocabularySize);
    return answerLoss(this.forward(ids, lengths).logits, batch);
  }

  /** Answer scores [B, 1, V] (logits), the form QA tasks evaluate. */
  predict(batch: Batch): Tensor {
    const { ids, lengths } = readingSequence("LstmAttention.predict", batch, this.vocabularySize);
    const { logits } = this.forward(ids, lengths);
    return reshape(logits, [logits.shape[0]!, 1, this.vocabularySize]);
  }

  /**
   * The attention of the first example's final state over the symbols it read (story words, then
   * the question's): one row, labelled with the predicted answer, one column per read symbol.
   */
  inspect(batch: Batch): Inspection {
    return noGrad(() => {
      const { ids, lengths } = readingSequence("LstmAttention.inspect", batch, this.vocabularySize);
      const n = lengths[0]!;
      const first = new Tensor(ids.data.slice(0, n), [1, n], "int32");
      const wasTraining = this.training;
      this.eval();
      let result: LstmAttentionResult;
      try {
        result = this.forward(first, Int32Array.of(n));
      } finally {
        this.train(wasTraining);
      }
      const label = (id: number): string => this.vocabulary?.[id] ?? `#${id}`;
      const symbols = Array.from(first.data, label);
      const logits = result.logits.data;
      let best = 0;
      for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
      const answer = label(best);
      return {
        input: symbols,
        output: [answer],
        maps: [
          {
            name: "attention",
            rowAxis: "output",
            colAxis: "input",
            rowLabels: [answer],
            colLabels: symbols,
            values: Float32Array.from(result.weights.data),
          },
        ],
      };
    });
  }
}

const SPEC = "lstm-attention";

/**
 * `lstm-attention` for QA tasks, the attention row of the baseline table next to `lstm-qa`.
 * Defaults and training are lstm-qa's (one layer of 64 units; Adam 1e-3, batch 128, gradient norm
 * clipped at 5, 15000 steps), with an attention layer as wide as the LSTM.
 */
export const lstmAttentionSpec: ModelSpec = {
  name: SPEC,
  description: "LSTM reader + additive attention from the final state over every step (the QA attention baseline)",
  kinds: ["qa"],
  defaults: { hiddenSize: 64, numLayers: 1, attentionSize: 64 },
  training: { steps: 15000, batchSize: 128, lr: 1e-3, optimizer: "adam", clipGradNorm: 5 },
  parameterCount(config: ModelConfig, task: Task): number {
    const h = intOption(SPEC, config, "hiddenSize");
    const layers = intOption(SPEC, config, "numLayers");
    const a = intOption(SPEC, config, "attentionSize");
    // per layer: W_ih (4H, in), W_hh (4H, H), two biases (4H)
    let n = 0;
    for (let l = 0; l < layers; l++) n += 4 * h * ((l === 0 ? task.inputSize : h) + h + 2);
    // attention: v (A), W (A, H), U (A, H); head: (V, 2H) + V
    return n + a * (2 * h + 1) + task.outputSize * (2 * h + 1);
  },
  create(config: ModelConfig, task: Task): TaskModel & InspectableModel {
    if (task.inputSize !== task.outputSize)
      throw new ArgumentError(`${SPEC}: task ${task.name} must answer with a symbol of its input vocabulary`);
    return new LstmAttention(task.inputSize, {
      hiddenSize: intOption(SPEC, config, "hiddenSize"),
      numLayers: intOption(SPEC, config, "numLayers"),
      attentionSize: intOption(SPEC, config, "attentionSize"),
      vocabulary: task.vocabulary,
    });
  },
};
