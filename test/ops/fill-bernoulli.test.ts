import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";

/** What Generator.fillBernoulli promises to equal: one random() per entry, in index order. */
function drawLoop(g: eg.Generator, out: Float32Array | Float64Array | Int32Array | Uint8Array, p: number, value: number): void {
  for (let i = 0; i < out.length; i++) out[i] = g.random() < p ? value : 0;
}

describe("Generator.fillBernoulli", () => {
  it("gives the per-draw loop's values and final state", () => {
    for (const seed of [0, 1, 12345, 2 ** 40 + 7]) {
      for (const p of [0, 1e-9, 0.1, 0.5, 0.9, 1]) {
        const fast = new eg.Generator(seed);
        const slow = new eg.Generator(seed);
        const a = new Float32Array(1001);
        const b = new Float32Array(1001);
        fast.fillBernoulli(a, p, 1 / 0.9);
        drawLoop(slow, b, p, 1 / 0.9);
        expect(a).toEqual(b);
        expect(fast.getState()).toEqual(slow.getState());
        // the streams stay in step afterwards
        expect(fast.random()).toBe(slow.random());
      }
    }
  });

  it("is exact at the threshold: a draw equal to p * 2^32 is not below p", () => {
    const u0 = new eg.Generator(3).nextUint32();
    const at = new Uint8Array(1);
    new eg.Generator(3).fillBernoulli(at, u0 / 2 ** 32, 1);
    expect(at[0]).toBe(0);
    const above = new Uint8Array(1);
    new eg.Generator(3).fillBernoulli(above, (u0 + 1) / 2 ** 32, 1);
    expect(above[0]).toBe(1);
  });

  it("fills every storage type and keeps about p of the entries", () => {
    for (const out of [new Float64Array(20000), new Int32Array(20000), new Uint8Array(20000)]) {
      const ref = new (out.constructor as new (n: number) => typeof out)(out.length);
      new eg.Generator(5).fillBernoulli(out, 0.3, 2);
      drawLoop(new eg.Generator(5), ref, 0.3, 2);
      expect(out).toEqual(ref);
      const kept = Array.from(out).filter((v) => v === 2).length;
      expect(kept / out.length).toBeGreaterThan(0.28);
      expect(kept / out.length).toBeLessThan(0.32);
    }
  });

  it("draws dropout's masks: the same output as the per-draw loop's mask", () => {
    const x = eg.randn([4, 7, 9], { generator: new eg.Generator(1) });
    const y = eg.dropout(x, 0.25, { generator: new eg.Generator(2) });
    const mask = new Float32Array(x.size);
    drawLoop(new eg.Generator(2), mask, 0.75, 1 / 0.75);
    const expected = Array.from(x.data, (v, i) => Math.fround(v * mask[i]!));
    expect(Array.from(y.data)).toEqual(expected);
  });
});
