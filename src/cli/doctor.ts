/** `engram doctor`: what this installation runs on, and why the native core is missing if it is. */
import { cpus } from "node:os";
import * as eg from "../index.js";

export function doctorReport(): string[] {
  const info = eg.backendInfo();
  const lines = [
    `engram doctor`,
    `  node            ${process.version} (${process.platform}-${process.arch})`,
    `  cpu             ${cpus()[0]?.model ?? "unknown"} x ${cpus().length}`,
  ];
  lines.push(`  backend         ${info.backend}${process.env.ENGRAM_BACKEND ? ` (ENGRAM_BACKEND=${process.env.ENGRAM_BACKEND})` : ""}`);
  if (info.native) {
    const n = info.native;
    lines.push(`  native core     available`);
    let gemm = n.blas === "openblas" ? `OpenBLAS ${n.openblasVersion ?? ""}`.trim() : `built-in ${n.gemmKernel} kernel`;
    if (!n.openblas) gemm += " (OpenBLAS not found at build time)";
    else if (n.blas !== "openblas")
      gemm += ` (OpenBLAS ${n.openblasVersion ?? ""} is linked but runs pre-AVX2 kernels on this CPU; ENGRAM_GEMM=openblas forces it)`;
    lines.push(`  gemm            ${gemm}`);
    lines.push(`  kernels         ${n.gemmKernel}`);
    lines.push(`  threads         ${n.threads}`);
    lines.push(
      `  cpu features    ${Object.entries(n.cpu)
        .map(([k, v]) => `${k} ${v ? "yes" : "no"}`)
        .join(", ")}`,
    );
  } else {
    lines.push(`  native core     unavailable: ${info.nativeError ?? "unknown reason"}`);
    lines.push(`                  the portable TypeScript kernels are used (correct, slower); see \`npm run build:native\``);
  }
  for (const v of ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "ENGRAM_NUM_THREADS", "ENGRAM_GEMM", "ENGRAM_ISA"]) {
    if (process.env[v] !== undefined) lines.push(`  ${v.padEnd(15)} ${process.env[v]}`);
  }
  return lines;
}
