/**
 * PyTorch parity: every optimizer config, gradient clipping and every schedule replayed against the
 * trajectories torch 1.13 recorded (scripts/gen-optim-fixtures.py).
 */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import {
  clipGradNorm,
  CosineWarmupLR,
  ExponentialLR,
  InverseSqrtLR,
  LinearLR,
  ReduceLROnPlateau,
  SGD,
  StepLR,
} from "../../src/optim/index.js";
import { fixture, freshParams, makeOptimizer, setGrads } from "./fixture.js";

/**
 * Largest |got - want| relative to the largest |want| of the tensor. Elementwise relative error is
 * the wrong measure for an update p - lr * d that lands near zero: a one-ulp difference in terms of
 * size 1 is then a large fraction of the result, in PyTorch's float32 as much as in ours.
 */
function relErr(got: ArrayLike<number>, want: readonly number[]): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return worst / scale;
}

describe("optimizers match PyTorch 1.13 step by step", () => {
  for (const c of fixture.optimizers) {
    it(c.name, () => {
      const params = freshParams();
      const opt = makeOptimizer(c, params);
      c.trajectory.forEach((want, s) => {
        setGrads(params, s);
        opt.step();
        for (const [name, p] of Object.entries(params)) {
          const err = relErr(p.data, want[name]!);
          expect(err, `${c.name} step ${s + 1} param ${name}`).toBeLessThan(1e-6);
        }
      });
      // the parameters really moved (a no-op optimizer would fail above, but say so plainly)
      expect(Array.from(params.w!.data)).not.toEqual(fixture.params.w!.values.map(Math.fround));
    });
  }
});

describe("clipGradNorm matches torch.nn.utils.clip_grad_norm_", () => {
  for (const c of fixture.clipping) {
    it(`normType ${c.normType}, maxNorm ${c.maxNorm}`, () => {
      const params = freshParams();
      setGrads(params, 0);
      const normType = c.normType === "Infinity" ? Infinity : c.normType;
      const total = clipGradNorm(Object.values(params), c.maxNorm, { normType });
      expect(Math.abs(total - c.total) / c.total).toBeLessThan(1e-6);
      Object.values(params).forEach((p, i) => {
        expect(relErr(p.grad!.data, c.grads[i]!)).toBeLessThan(1e-6);
      });
    });
  }
});

describe("schedules match torch.optim.lr_scheduler", () => {
  for (const c of fixture.schedules) {
    it(c.name, () => {
      const opt = new SGD(
        c.baseLrs.map((lr) => ({ params: [eg.zeros([1], { requiresGrad: true })], lr })),
        { lr: 1 },
      );
      const o = c.options as never;
      if (c.schedule === "ReduceLROnPlateau") {
        const sched = new ReduceLROnPlateau(opt, o);
        c.metrics!.forEach((m, i) => {
          sched.step(m === "NaN" ? NaN : m);
          expect(relErr(sched.lastLr, c.lrs[i]!), `epoch ${i + 1}`).toBeLessThan(1e-12);
        });
        return;
      }
      const make = { StepLR, ExponentialLR, LinearLR, CosineWarmupLR, InverseSqrtLR }[c.schedule as "StepLR"];
      const sched = new make(opt, o);
      c.lrs.forEach((want, epoch) => {
        if (epoch > 0) sched.step();
        expect(relErr(sched.lastLr, want), `epoch ${epoch}`).toBeLessThan(1e-9);
        expect(opt.paramGroups.map((g) => g.lr)).toEqual(sched.lastLr);
      });
    });
  }
});
