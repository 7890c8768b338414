/**
 * `engram demo`: the smallest end-to-end run. A two-layer MLP learns to classify a 3-arm spiral
 * (not linearly separable) with plain SGD, printing the loss as it falls and the final accuracy.
 */
import * as eg from "../index.js";

export interface DemoOptions {
  steps: number;
  seed: number;
  hidden: number;
  lr: number;
  log: (line: string) => void;
}

/** n points per class on `classes` interleaved spiral arms, with a little noise. */
function spiral(n: number, classes: number, gen: eg.Generator): { x: eg.Tensor; y: eg.Tensor } {
  const xs = new Float32Array(n * classes * 2);
  const ys = new Int32Array(n * classes);
  const noise = eg.randn([n * classes], { generator: gen, std: 0.2 }).data;
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < n; i++) {
      const k = c * n + i;
      const r = i / n;
      const theta = (c * 2 * Math.PI) / classes + r * 4 + noise[k]!;
      xs[2 * k] = r * Math.sin(theta);
      xs[2 * k + 1] = r * Math.cos(theta);
      ys[k] = c;
    }
  }
  return { x: eg.tensor(xs).reshape([n * classes, 2]), y: eg.tensor(ys) };
}

export interface DemoResult {
  firstLoss: number;
  lastLoss: number;
  accuracy: number;
}

export function runDemo(opts: DemoOptions): DemoResult {
  const gen = new eg.Generator(opts.seed);
  const { x, y } = spiral(100, 3, gen);
  // Kaiming-style scales keep the ReLU layer's activations at unit variance
  const w1 = eg.randn([2, opts.hidden], { generator: gen, std: Math.sqrt(2 / 2), requiresGrad: true });
  const b1 = eg.zeros([opts.hidden], { requiresGrad: true });
  const w2 = eg.randn([opts.hidden, 3], { generator: gen, std: Math.sqrt(1 / opts.hidden), requiresGrad: true });
  const b2 = eg.zeros([3], { requiresGrad: true });
  const params = [w1, b1, w2, b2];
  const forward = (): eg.Tensor => x.matmul(w1).add(b1).relu().matmul(w2).add(b2);

  const b = eg.backendInfo();
  opts.log(`engram demo: 2-layer MLP (hidden ${opts.hidden}) on a 3-arm spiral, ${opts.steps} SGD steps, backend ${b.backend}`);
  let firstLoss = NaN;
  let lastLoss = NaN;
  const every = Math.max(1, Math.floor(opts.steps / 10));
  for (let step = 1; step <= opts.steps; step++) {
    const loss = eg.crossEntropy(forward(), y);
    for (const p of params) p.grad = null;
    loss.backward();
    eg.noGrad(() => {
      for (const p of params) {
        const d = p.data;
        const g = p.grad!.data;
        for (let i = 0; i < d.length; i++) d[i]! -= opts.lr * g[i]!;
      }
    });
    lastLoss = loss.item();
    if (step === 1) firstLoss = lastLoss;
    if (step === 1 || step % every === 0) opts.log(`step ${String(step).padStart(5)}  loss ${lastLoss.toFixed(4)}`);
  }
  const pred = eg.noGrad(() => forward().argmax(-1));
  const accuracy = pred.eq(y).float().mean().item();
  opts.log(`loss ${firstLoss.toFixed(4)} -> ${lastLoss.toFixed(4)}, training accuracy ${(accuracy * 100).toFixed(1)}%`);
  return { firstLoss, lastLoss, accuracy };
}
