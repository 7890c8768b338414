/**
 * The type of the native addon's exports (native/addon.cc). Kernel functions take the same
 * arguments, in the same order, as the methods of `Kernels`; typed arrays are used in place.
 * A call with an element-type combination the addon does not implement throws a TypeError, so
 * callers route those to the ts kernels (see native-kernels.ts).
 */
import type { Kernels } from "../kernels.js";

/** Bumped with every change to the addon's exports; the loader rejects a build with another value. */
export const NATIVE_ABI_VERSION = 8;

export type NativeGemm = "openblas" | "builtin";
export type NativeIsa = "avx512" | "avx2" | "scalar";

export interface NativeAddonInfo {
  /** The GEMM currently in use. */
  blas: NativeGemm;
  /** Whether this build links OpenBLAS. */
  openblas: boolean;
  openblasVersion?: string;
  /** Instruction set of the built-in GEMM and the float32 kernels currently in use. */
  gemmKernel: NativeIsa;
  threads: number;
  cpu: { avx2: boolean; fma: boolean; avx512f: boolean };
}

export interface NativeAddon {
  unary: Kernels["unary"];
  unaryGrad: Kernels["unaryGrad"];
  binary: Kernels["binary"];
  where: Kernels["where"];
  reduce: Kernels["reduce"];
  matmul: Kernels["matmul"];
  softmax: Kernels["softmax"];
  softmaxGrad: Kernels["softmaxGrad"];
  layerNorm: Kernels["layerNorm"];
  layerNormGrad: Kernels["layerNormGrad"];
  stridedCopy: Kernels["stridedCopy"];
  stridedScatter: Kernels["stridedScatter"];
  gather: Kernels["gather"];
  scatterAdd: Kernels["scatterAdd"];
  indexSelect: Kernels["indexSelect"];
  indexAdd: Kernels["indexAdd"];
  cast: Kernels["cast"];
  tri: Kernels["tri"];
  lstmCell: Kernels["lstmCell"];
  lstmCellGrad: Kernels["lstmCellGrad"];
  ntmAddressing: Kernels["ntmAddressing"];
  ntmAddressingGrad: Kernels["ntmAddressingGrad"];
  memoryWrite: Kernels["memoryWrite"];
  memoryWriteGrad: Kernels["memoryWriteGrad"];
  gruCell: Kernels["gruCell"];
  gruCellGrad: Kernels["gruCellGrad"];
  sentenceEncode: Kernels["sentenceEncode"];
  sentenceEncodeGrad: Kernels["sentenceEncodeGrad"];
  fastWeightsSequence: Kernels["fastWeightsSequence"];
  fastWeightsSequenceGrad: Kernels["fastWeightsSequenceGrad"];
  additiveScores: Kernels["additiveScores"];
  additiveScoresGrad: Kernels["additiveScoresGrad"];
  sdpaForward: Kernels["sdpaForward"];
  sdpaBackward: Kernels["sdpaBackward"];
  sgdUpdate: Kernels["sgdUpdate"];
  adamUpdate: Kernels["adamUpdate"];
  rmspropUpdate: Kernels["rmspropUpdate"];
  adagradUpdate: Kernels["adagradUpdate"];

  info(): NativeAddonInfo;
  /** Switches the GEMM (initially ENGRAM_GEMM, else OpenBLAS when linked); throws if OpenBLAS is absent. */
  setGemm(name: NativeGemm): void;
  /** Sets the thread count of the native pool and of OpenBLAS (initially ENGRAM_NUM_THREADS, else all cores); returns the count in use. */
  setThreads(n: number): number;
  /** Selects the instruction set (initially ENGRAM_ISA, else the best the CPU has), clamped to what the CPU supports; returns the one in use. */
  setIsa(name: NativeIsa): NativeIsa;
  readonly abiVersion: number;
}
