/**
 * `lstm-qa`: the recurrent baseline for question-answering tasks (associative retrieval, bAbI). An
 * LSTM reads the one-hot symbols of the sequence (a story is read word by word, then its question;
 * see `readingSequence`) and a linear head answers from the state at each row's last step:
 *   h_t = LSTM(x_t, h_{t-1}),  answer = softmax(W h_T + b)
 * trained by cross-entropy over the rows the mask counts. The fast-weights paper compares against
 * exactly this kind of reader.
 * State-dict keys: `lstm.*` (PyTorch's LSTM layout), `head.weight` (V, H), `head.bias` (V).
 */
import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { answerLoss, readingSequence } from "../memory/fast-weights.js";
import { Linear } from "../nn/linear.js";
import { Module, type ParameterFloatOptions } from "../nn/module.js";
import { LSTM } from "../nn/rnn.js";
import { positiveInt } from "../nn/util.js";
import { narrow, oneHot, reshape } from "../ops/shape.js";
import type { Batch, Task } from "../tasks/task.js";
import { intOption, type ModelConfig, type ModelSpec, type TaskModel } from "./task-model.js";

export interface LstmQAOptions extends ParameterFloatOptions {
  hiddenSize: number;
  numLayers?: number;
  generator?: Generator;
}

export class LstmQA extends Module implements TaskModel {
  readonly vocabularySize: number;
  readonly lstm: LSTM;
  readonly head: Linear;

  constructor(vocabularySize: number, opts: LstmQAOptions) {
    super();
    this.vocabularySize = positiveInt("LstmQA", vocabularySize, "vocabularySize", 1);
    const common = { ...(opts.dtype ? { dtype: opts.dtype } : {}), ...(opts.generator ? { generator: opts.generator } : {}) };
    this.lstm = new LSTM(vocabularySize, opts.hiddenSize, { numLayers: opts.numLayers ?? 1, batchFirst: true, ...common });
    this.head = new Linear(opts.hiddenSize, vocabularySize, common);
  }

  /** ids int32 [B, T] with row lengths -> answer logits [B, V]. */
  forward(ids: Tensor, lengths: Int32Array): Tensor {
    const x = oneHot(ids, this.vocabularySize, { dtype: this.lstm.dtype });
    // the LSTM freezes each row's state after its last step, so hN of the top layer is h at lengths[b] - 1
    const { hN } = this.lstm.forward(x, { lengths: Array.from(lengths) });
    const [layers, B, H] = hN.shape as [number, number, number];
    return this.head.forward(reshape(narrow(hN, 0, layers - 1, 1), [B, H]));
  }

  loss(batch: Batch): Tensor {
    const { ids, lengths } = readingSequence("LstmQA.loss", batch, this.vocabularySize);
    return answerLoss(this.forward(ids, lengths), batch);
  }

  /** Answer scores [B, 1, V] (logits), the form QA tasks evaluate. */
  predict(batch: Batch): Tensor {
    const { ids, lengths } = readingSequence("LstmQA.predict", batch, this.vocabularySize);
    const logits = this.forward(ids, lengths);
    return reshape(logits, [logits.shape[0]!, 1, this.vocabularySize]);
  }
}

const SPEC = "lstm-qa";

/**
 * `lstm-qa` for QA tasks, the baseline row next to `fast-weights` and `memn2n`. Defaults: one layer
 * of 64 units (the fast-weights default's size) and the same training: Adam at 1e-3, batch 128,
 * gradient norm clipped at 5, 15000 steps. Measured on associative retrieval with K = 4 (native):
 * 41% validation accuracy after 15000 steps, still on the plateau of naming one of the K digits,
 * where `fast-weights` reaches 97%.
 */
export const lstmQaSpec: ModelSpec = {
  name: SPEC,
  description: "LSTM reader + linear answer head (the QA baseline: associative retrieval, bAbI)",
  kinds: ["qa"],
  defaults: { hiddenSize: 64, numLayers: 1 },
  training: { steps: 15000, batchSize: 128, lr: 1e-3, optimizer: "adam", clipGradNorm: 5 },
  parameterCount(config: ModelConfig, task: Task): number {
    const h = intOption(SPEC, config, "hiddenSize");
    const layers = intOption(SPEC, config, "numLayers");
    // per layer: W_ih (4H, in), W_hh (4H, H), two biases (4H); the head: (V, H) + V
    let n = 0;
    for (let l = 0; l < layers; l++) n += 4 * h * ((l === 0 ? task.inputSize : h) + h + 2);
    return n + task.outputSize * (h + 1);
  },
  create(config: ModelConfig, task: Task): TaskModel {
    if (task.inputSize !== task.outputSize)
      throw new ArgumentError(`${SPEC}: task ${task.name} must answer with a symbol of its input vocabulary`);
    return new LstmQA(task.inputSize, {
      hiddenSize: intOption(SPEC, config, "hiddenSize"),
      numLayers: intOption(SPEC, config, "numLayers"),
    });
  },
};
