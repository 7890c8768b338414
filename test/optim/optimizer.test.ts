/**
 * Optimizer contract: bit-identical resume through a state dict (also through safetensors + JSON,
 * as a checkpoint stores it), argument validation, all-or-nothing loading, gradient clipping edge
 * cases and schedule state.
 */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { decode, encode } from "../../src/io/safetensors.js";
import {
  Adagrad,
  Adam,
  AdamW,
  clipGradNorm,
  clipGradValue,
  CosineWarmupLR,
  InverseSqrtLR,
  ReduceLROnPlateau,
  RMSprop,
  SGD,
  StepLR,
  PhasedLR,
  type Optimizer,
  type OptimizerStateDict,
  type ParamStateDict,
} from "../../src/optim/index.js";
import { fixture, freshParams, makeOptimizer, setGrads } from "./fixture.js";

const STEPS = fixture.grads.length;

/** Stores a state dict the way a checkpoint does: buffers in safetensors, everything else in JSON. */
function throughCheckpoint(sd: OptimizerStateDict): OptimizerStateDict {
  const tensors: Record<string, eg.Tensor> = {};
  const steps: Record<string, number> = {};
  for (const [index, st] of Object.entries(sd.state)) {
    steps[index] = st.step;
    for (const [name, t] of Object.entries(st.buffers)) tensors[`${index}.${name}`] = t;
  }
  const json = JSON.stringify({ paramGroups: sd.paramGroups, steps });
  const decoded = decode(encode(tensors)).tensors;
  const meta = JSON.parse(json) as { paramGroups: OptimizerStateDict["paramGroups"]; steps: Record<string, number> };
  const state: Record<string, ParamStateDict> = {};
  for (const [index, step] of Object.entries(meta.steps)) state[index] = { step, buffers: {} };
  for (const [key, t] of Object.entries(decoded)) {
    const [index, name] = key.split(".") as [string, string];
    state[index]!.buffers[name] = t;
  }
  return { state, paramGroups: meta.paramGroups };
}

/** A state dict with tensors replaced by their dtype, shape and values (tensor ids differ between runs). */
function plain(sd: OptimizerStateDict): unknown {
  return JSON.parse(
    JSON.stringify(sd, (_key, v: unknown) => (v instanceof eg.Tensor ? { dtype: v.dtype, shape: v.shape, data: Array.from(v.data) } : v)),
  );
}

function snapshot(params: Record<string, eg.Tensor>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(params).map(([k, p]) => [k, Array.from(p.data)]));
}

describe("state dict resume is bit-identical", () => {
  for (const c of fixture.optimizers) {
    for (const via of ["in memory", "through safetensors + JSON"] as const) {
      it(`${c.name} (${via})`, () => {
        const straight = freshParams();
        const optA = makeOptimizer(c, straight);
        const history: Record<string, number[]>[] = [];
        for (let s = 0; s < STEPS; s++) {
          setGrads(straight, s);
          optA.step();
          history.push(snapshot(straight));
        }

        const first = freshParams();
        const optB = makeOptimizer(c, first);
        for (let s = 0; s < 3; s++) {
          setGrads(first, s);
          optB.step();
        }
        const saved = optB.stateDict();
        const sd = via === "in memory" ? saved : throughCheckpoint(saved);
        // later steps of the original must not leak into the saved dict
        setGrads(first, 3);
        optB.step();

        // a fresh process: new tensors holding the step-3 weights, a fresh optimizer with other hyperparameters
        const resumed = freshParams();
        for (const [k, p] of Object.entries(resumed)) p.data.set(history[2]![k]!);
        const optC = makeOptimizer({ ...c, options: { ...c.options, lr: 123 } }, resumed);
        optC.loadStateDict(sd);
        expect(optC.paramGroups.map((g) => g.lr)).toEqual(optA.paramGroups.map((g) => g.lr));
        for (let s = 3; s < STEPS; s++) {
          setGrads(resumed, s);
          optC.step();
          expect(snapshot(resumed), `step ${s + 1}`).toEqual(history[s]);
        }
        expect(plain(optC.stateDict())).toEqual(plain(optA.stateDict()));
      });
    }
  }
});

describe("optimizer behaviour", () => {
  const p = (values: number[]): eg.Tensor => eg.tensor(values, { requiresGrad: true });

  it("skips parameters without gradients and counts steps per parameter", () => {
    const a = p([1, 2]);
    const b = p([3]);
    const opt = new Adam([a, b], { lr: 0.1 });
    a.grad = eg.tensor([1, -1]);
    opt.step();
    opt.step();
    b.grad = eg.tensor([1]);
    opt.step();
    expect(opt.getState(a)!.step).toBe(3);
    expect(opt.getState(b)!.step).toBe(1);
    expect(Object.keys(opt.stateDict().state)).toEqual(["0", "1"]);
    expect(Object.keys(opt.getState(a)!.buffers).sort()).toEqual(["expAvg", "expAvgSq"]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
    expect(b.grad).toBeNull();
    const before = Array.from(a.data);
    opt.step();
    expect(Array.from(a.data)).toEqual(before);
  });

  it("updates float64 parameters in float64 (plain SGD is exact)", () => {
    const w = eg.tensor([1, 0.1], { dtype: "float64", requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1, weightDecay: 0.5 });
    w.grad = eg.tensor([0.3, 0.7], { dtype: "float64" });
    opt.step();
    expect(Array.from(w.data)).toEqual([1 - 0.1 * (0.3 + 0.5 * 1), 0.1 - 0.1 * (0.7 + 0.5 * 0.1)]);
    const m = new SGD([w], { lr: 0.1, momentum: 0.9 });
    m.step();
    expect(m.getState(w)!.buffers.momentumBuffer!.dtype).toBe("float64");
  });

  it("uses the learning rate a schedule sets on each group", () => {
    const w = p([1]);
    const opt = new SGD([w], { lr: 1 });
    const sched = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = w.data[0]!;
      w.grad = eg.tensor([1]);
      opt.step();
      seen.push(before - w.data[0]!);
      sched.step();
    }
    expect(seen).toEqual([1, 0.5, 0.25]);
  });

  it("validates constructor arguments", () => {
    const w = p([1, 2]);
    expect(() => new SGD([w], {} as never)).toThrow(/^SGD: lr must be a finite number, got undefined/);
    expect(() => new SGD([w], { lr: -1 })).toThrow(/^SGD: lr must be >= 0, got -1/);
    expect(() => new SGD([w], { lr: 0.1, nesterov: true })).toThrow(/nesterov momentum requires momentum > 0 and dampening = 0/);
    expect(() => new SGD([], { lr: 0.1 })).toThrow(/^SGD: got an empty parameter list/);
    expect(() => new Adam([w], { betas: [0.9, 1] })).toThrow(/^Adam: betas\[1\] must be < 1, got 1/);
    expect(() => new Adam([w], { betas: [0.9] as never })).toThrow(/betas must be \[beta1, beta2\]/);
    expect(() => new AdamW([w], { weight_decay: 0.1 } as never)).toThrow(/^AdamW: unknown option "weight_decay"/);
    expect(() => new RMSprop([w], { centered: 1 as never })).toThrow(/^RMSprop: centered must be a boolean/);
    expect(() => new Adagrad([w], { eps: NaN })).toThrow(/^Adagrad: eps must be a finite number/);
    expect(() => new Adam([w, w])).toThrow(/appears more than once/);
    expect(() => new Adam([{ params: [w] }, { params: [w] }])).toThrow(/appears more than once/);
    expect(() => new Adam([eg.tensor([1, 2], { dtype: "int32" })])).toThrow(eg.DTypeError);
    expect(() => new Adam([w.mul(2)])).toThrow(/cannot optimize a non-leaf tensor of shape \[2\]/);
    expect(() => new Adam([{ params: [w], lr: -3 }])).toThrow(/^Adam: lr must be >= 0, got -3/);
    expect(() => new Adam([{ params: [w], momentum: 0.9 } as never])).toThrow(/^Adam.addParamGroup: unknown option "momentum"/);
    const opt = new Adam([w]);
    expect(() => opt.addParamGroup({ params: [w] })).toThrow(/appears more than once/);
  });

  it("takes per-group overrides and adds groups later", () => {
    const a = p([1]);
    const b = p([2]);
    const opt = new Adam([{ params: [a], lr: 0.5, betas: [0.5, 0.6] }], { lr: 0.01, weightDecay: 0.1 });
    opt.addParamGroup({ params: [b], eps: 1e-3 });
    expect(opt.paramGroups.map(({ params: _, ...h }) => h)).toEqual([
      { lr: 0.5, betas: [0.5, 0.6], eps: 1e-8, weightDecay: 0.1, amsgrad: false },
      { lr: 0.01, betas: [0.9, 0.999], eps: 1e-3, weightDecay: 0.1, amsgrad: false },
    ]);
  });

  it("rejects a gradient of the wrong size", () => {
    const w = p([1, 2]);
    const opt = new SGD([w], { lr: 0.1 });
    w.grad = eg.tensor([1, 2, 3]);
    expect(() => opt.step()).toThrow(/^SGD.step: gradient of shape \[3\] does not match parameter of shape \[2\]/);
  });

  describe("loadStateDict checks everything before changing anything", () => {
    const setup = (): { opt: Optimizer; sd: OptimizerStateDict } => {
      const params = freshParams();
      const opt: Optimizer = new Adam(Object.values(params), { lr: 0.01, amsgrad: true });
      setGrads(params, 0);
      opt.step();
      return { opt, sd: opt.stateDict() };
    };
    const cases: [string, (sd: OptimizerStateDict) => unknown, RegExp][] = [
      ["not an object", () => null, /expected an object with state and paramGroups/],
      ["missing group", (sd) => ({ ...sd, paramGroups: [] }), /state dict has 0 parameter groups, optimizer has 1/],
      [
        "wrong parameter count",
        (sd) => ({ ...sd, paramGroups: [{ ...sd.paramGroups[0]!, params: [0, 1] }] }),
        /group 0 has 2 parameters in the state dict, 3 in the optimizer/,
      ],
      ["bad hyperparameter type", (sd) => ({ ...sd, paramGroups: [{ ...sd.paramGroups[0]!, lr: "0.1" }] }), /group 0: lr is "0.1"/],
      ["bad hyperparameter value", (sd) => ({ ...sd, paramGroups: [{ ...sd.paramGroups[0]!, lr: -1 }] }), /group 0: Adam: lr must be >= 0/],
      ["betas of wrong length", (sd) => ({ ...sd, paramGroups: [{ ...sd.paramGroups[0]!, betas: [0.9] }] }), /group 0: betas is \[0.9\]/],
      [
        "state index out of range",
        (sd) => ({ ...sd, state: { ...sd.state, 3: sd.state[0] } }),
        /state key "3" is not a parameter index in \[0, 3\)/,
      ],
      [
        "negative step",
        (sd) => ({ ...sd, state: { ...sd.state, 1: { ...sd.state[1]!, step: -1 } } }),
        /state 1: step must be a non-negative integer/,
      ],
      [
        "foreign buffer",
        (sd) => ({ ...sd, state: { 0: { step: 1, buffers: { momentumBuffer: sd.state[0]!.buffers.expAvg } } } }),
        /unknown buffer "momentumBuffer" \(Adam keeps expAvg, expAvgSq, maxExpAvgSq\)/,
      ],
      [
        "buffer of another shape",
        (sd) => ({ ...sd, state: { 0: { step: 1, buffers: { expAvg: eg.zeros([4, 3]) } } } }),
        /state 0.expAvg is float32 \[4, 3\] but the parameter is float32 \[3, 4\]/,
      ],
      [
        "buffer of another dtype",
        (sd) => ({ ...sd, state: { 0: { step: 1, buffers: { expAvg: eg.zeros([3, 4], { dtype: "float64" }) } } } }),
        /is float64 \[3, 4\]/,
      ],
      [
        "buffer not a tensor",
        (sd) => ({ ...sd, state: { 0: { step: 1, buffers: { expAvg: [1, 2] } } } }),
        /state 0.expAvg is not a Tensor/,
      ],
    ];
    for (const [name, mutate, message] of cases) {
      it(name, () => {
        const { opt, sd } = setup();
        const before = opt.stateDict();
        expect(() => opt.loadStateDict(mutate(sd) as OptimizerStateDict)).toThrow(message);
        expect(() => opt.loadStateDict(mutate(sd) as OptimizerStateDict)).toThrow(eg.CheckpointError);
        expect(plain(opt.stateDict())).toEqual(plain(before));
      });
    }
  });
});

describe("gradient clipping", () => {
  it("clips only when the norm exceeds maxNorm, skips missing grads, returns the total norm", () => {
    const a = eg.tensor([3, 0], { requiresGrad: true });
    const b = eg.tensor([4], { requiresGrad: true });
    const c = eg.tensor([100], { requiresGrad: true });
    a.grad = eg.tensor([3, 0]);
    b.grad = eg.tensor([-4]);
    expect(clipGradNorm([a, b, c], 10)).toBe(5);
    expect(Array.from(a.grad.data)).toEqual([3, 0]);
    const total = clipGradNorm([a, b, c], 1);
    expect(total).toBe(5);
    const coef = 1 / (5 + 1e-6);
    expect(Array.from(a.grad.data)).toEqual([Math.fround(3 * coef), 0]);
    expect(Array.from(b.grad.data)).toEqual([Math.fround(-4 * coef)]);
    expect(c.grad).toBeNull();
    expect(clipGradNorm([c], 1)).toBe(0);
    expect(clipGradNorm(b, 100, { normType: Infinity })).toBeCloseTo(4 * coef, 6);
  });

  it("handles non-finite norms as PyTorch does, or throws when asked", () => {
    const a = eg.tensor([1, 2], { requiresGrad: true });
    a.grad = eg.tensor([NaN, 1]);
    expect(clipGradNorm([a], 1)).toBeNaN();
    expect(clipGradNorm([a], 1, { normType: Infinity })).toBeNaN();
    expect(() => clipGradNorm([a], 1, { errorIfNonfinite: true })).toThrow(/^clipGradNorm: the total gradient norm of order 2 is NaN/);
    a.grad = eg.tensor([Infinity, 1]);
    expect(clipGradNorm([a], 1)).toBe(Infinity);
    expect(Array.from(a.grad.data)).toEqual([NaN, 0]);
  });

  it("validates arguments", () => {
    const a = eg.tensor([1], { requiresGrad: true });
    expect(() => clipGradNorm([a], -1)).toThrow(/^clipGradNorm: maxNorm must be >= 0/);
    expect(() => clipGradNorm([a], 1, { normType: 0 })).toThrow(/normType must be a positive number or Infinity/);
    expect(() => clipGradNorm([1] as never, 1)).toThrow(/params must be Tensors/);
    expect(() => clipGradValue([a], NaN)).toThrow(/^clipGradValue: clipValue must be a finite number/);
  });

  it("clipGradValue clamps each entry", () => {
    const a = eg.tensor([1, 2, 3], { requiresGrad: true });
    a.grad = eg.tensor([-5, 0.5, 7]);
    clipGradValue(a, 1);
    expect(Array.from(a.grad.data)).toEqual([-1, 0.5, 1]);
  });
});

describe("schedules", () => {
  const optimizer = (): SGD =>
    new SGD(
      [
        { params: [eg.zeros([1], { requiresGrad: true })], lr: 0.1 },
        { params: [eg.zeros([1], { requiresGrad: true })], lr: 0.02 },
      ],
      { lr: 1 },
    );

  it("resume from a state dict continues the same rates", () => {
    const makers = [
      (o: SGD) => new CosineWarmupLR(o, { warmupSteps: 3, totalSteps: 10 }),
      (o: SGD) => new InverseSqrtLR(o, { warmupSteps: 4 }),
      (o: SGD) => new StepLR(o, { stepSize: 2 }),
      (o: SGD) =>
        new PhasedLR(o, {
          phases: [
            [0, 0.5],
            [2, 1],
            [5, 0.25],
          ],
        }),
    ];
    for (const make of makers) {
      const a = make(optimizer());
      const rates: number[][] = [];
      for (let i = 0; i < 8; i++) rates.push((a.step(), a.lastLr));
      const b = make(optimizer());
      for (let i = 0; i < 4; i++) b.step();
      const sd = JSON.parse(JSON.stringify(b.stateDict())) as ReturnType<typeof b.stateDict>;
      const c = make(optimizer());
      c.loadStateDict(sd);
      expect(c.lastLr).toEqual(rates[3]);
      for (let i = 4; i < 8; i++) expect((c.step(), c.lastLr)).toEqual(rates[i]);
    }
  });

  it("phased rates hold each factor from its start step to the next", () => {
    const s = new PhasedLR(optimizer(), {
      phases: [
        [0, 0.5],
        [2, 1],
        [5, 0.25],
      ],
    });
    expect(s.lastLr).toEqual([0.05, 0.01]);
    expect([0, 1, 2, 4, 5, 100].map((e) => s.lrAt(0.1, e))).toEqual([0.05, 0.05, 0.1, 0.1, 0.025, 0.025]);
  });

  it("cosine warmup starts at startFactor, peaks at the base rate and stays at minLr after totalSteps", () => {
    const s = new CosineWarmupLR(optimizer(), { warmupSteps: 2, totalSteps: 6, minLr: 0.001 });
    expect(s.lastLr).toEqual([0, 0]);
    expect(s.lrAt(0.1, 2)).toBe(0.1);
    expect(s.lrAt(0.1, 4)).toBeCloseTo(0.0505, 12);
    expect(s.lrAt(0.1, 6)).toBeCloseTo(0.001, 15);
    expect(s.lrAt(0.1, 60)).toBeCloseTo(0.001, 15);
  });

  it("ReduceLROnPlateau state survives JSON (best is null before any metric)", () => {
    const a = new ReduceLROnPlateau(optimizer(), { patience: 1 });
    expect(JSON.parse(JSON.stringify(a.stateDict()))).toEqual({ lastEpoch: 0, best: null, numBadEpochs: 0, cooldownCounter: 0 });
    const metrics = [1, 0.5, 0.6, 0.7, 0.7, 0.4, 0.9, 0.9, 0.9];
    const rates = metrics.map((m) => (a.step(m), a.lastLr));
    const opt = optimizer();
    const b = new ReduceLROnPlateau(opt, { patience: 1 });
    metrics.slice(0, 4).forEach((m) => b.step(m));
    const saved = { sd: JSON.parse(JSON.stringify(b.stateDict())) as ReturnType<typeof b.stateDict>, lrs: b.lastLr };
    const opt2 = optimizer();
    opt2.paramGroups.forEach((g, i) => (g.lr = saved.lrs[i]!));
    const c = new ReduceLROnPlateau(opt2, { patience: 1 });
    c.loadStateDict(saved.sd);
    metrics.slice(4).forEach((m, i) => {
      c.step(m);
      expect(c.lastLr).toEqual(rates[4 + i]);
    });
  });

  it("validates options and state dicts", () => {
    expect(() => new StepLR(optimizer(), { stepSize: 0 })).toThrow(/^StepLR: stepSize must be >= 1/);
    expect(() => new PhasedLR(optimizer(), { phases: [] })).toThrow(/^PhasedLR: phases must be a non-empty list/);
    expect(() => new PhasedLR(optimizer(), { phases: [[1, 1]] })).toThrow(/^PhasedLR: the first phase must start at step 0/);
    expect(
      () =>
        new PhasedLR(optimizer(), {
          phases: [
            [0, 1],
            [3, 0.5],
            [3, 0.1],
          ],
        }),
    ).toThrow(/^PhasedLR: phase 2 start must be >= 4/);
    expect(() => new PhasedLR(optimizer(), { phases: [[0, -1]] })).toThrow(/^PhasedLR: phase 0 factor must be >= 0/);
    expect(() => new CosineWarmupLR(optimizer(), { warmupSteps: 5, totalSteps: 5 })).toThrow(/^CosineWarmupLR: totalSteps must be >= 6/);
    expect(() => new InverseSqrtLR({} as never, { warmupSteps: 5 })).toThrow(/^InverseSqrtLR: expected an optimizer with paramGroups/);
    expect(() => new ReduceLROnPlateau(optimizer(), { mode: "up" as never })).toThrow(/mode must be "min" or "max"/);
    expect(() => new ReduceLROnPlateau(optimizer(), { minLr: [0] })).toThrow(/expected 2 minLr values/);
    expect(() => new StepLR(optimizer(), { stepSize: 1 }).loadStateDict({ lastEpoch: -1, baseLrs: [1, 1] })).toThrow(eg.CheckpointError);
    expect(() => new StepLR(optimizer(), { stepSize: 1 }).loadStateDict({ lastEpoch: 1, baseLrs: [1] })).toThrow(
      /baseLrs must hold 2 non-negative numbers/,
    );
    expect(() =>
      new ReduceLROnPlateau(optimizer()).loadStateDict({ lastEpoch: 1, best: "x" as never, numBadEpochs: 0, cooldownCounter: 0 }),
    ).toThrow(/best must be a number or null/);
  });
});
