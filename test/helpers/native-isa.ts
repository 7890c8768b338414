// The SIMD instruction sets this CPU can run the native kernels with, and a describe block per set
// that switches the addon to it and back: the native kernel tests compare every variant with ts.
import { afterAll, beforeAll, describe, expect } from "vitest";
import type { NativeAddon, NativeIsa } from "../../src/backend/native/binding.js";

export function supportedIsas(addon: NativeAddon | undefined): NativeIsa[] {
  if (!addon) return [];
  const cpu = addon.info().cpu;
  const out: NativeIsa[] = ["scalar"];
  if (cpu.avx2 && cpu.fma) out.push("avx2");
  if (cpu.avx512f && cpu.avx2 && cpu.fma) out.push("avx512");
  return out;
}

/** `describe("isa <name>")` for every supported instruction set, with the addon switched to it meanwhile. */
export function describeEachIsa(addon: NativeAddon | undefined, body: (isa: NativeIsa) => void): void {
  for (const isa of supportedIsas(addon)) {
    describe(`isa ${isa}`, () => {
      let previous: NativeIsa = "scalar";
      beforeAll(() => {
        previous = addon!.info().gemmKernel;
        expect(addon!.setIsa(isa)).toBe(isa);
      });
      afterAll(() => {
        addon!.setIsa(previous);
      });
      body(isa);
    });
  }
}
