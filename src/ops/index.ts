import { setGradAccumulator } from "../autograd/engine.js";
import { add } from "./elementwise.js";

// The engine accumulates gradients with the ops layer's broadcasting add.
setGradAccumulator(add);

export * from "./creation.js";
export * from "./elementwise.js";
export * from "./linalg.js";
export * from "./nn.js";
export * from "./random.js";
export * from "./reduce.js";
export { lstmCell, type LstmCellResult } from "./rnn.js";
export * from "./shape.js";
export type { TensorLike } from "./util.js";
