/** Browser entry: the portable TypeScript kernels only (no Node imports on this path). */
export * from "./engram.js";
