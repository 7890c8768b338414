// Configure-time OpenBLAS detection for binding.gyp (run by gyp as `node native/detect-blas.mjs <what>`).
//   have          prints 1 when OpenBLAS headers and library were found, else 0
//   include_dirs  the include directories (one per line)
//   libraries     the linker flags
// pkg-config is tried first; without it, a few well-known install locations are searched.
// ENGRAM_NO_OPENBLAS=1 forces a build with the built-in GEMM only.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

function pkgConfig(args) {
  try {
    return execFileSync("pkg-config", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

function splitFlags(s) {
  return s.split(/\s+/).filter(Boolean);
}

function detect() {
  if (process.env.ENGRAM_NO_OPENBLAS === "1" || process.platform === "win32") return null;
  if (pkgConfig(["--exists", "openblas"]) !== null) {
    const cflags = splitFlags(pkgConfig(["--cflags-only-I", "openblas"]) ?? "");
    const libs = splitFlags(pkgConfig(["--libs", "openblas"]) ?? "-lopenblas");
    const includeDirs = cflags.map((f) => f.slice(2));
    const libDirs = libs.filter((f) => f.startsWith("-L")).map((f) => f.slice(2));
    const headerOk = includeDirs.length === 0 || includeDirs.some((d) => existsSync(join(d, "cblas.h")));
    if (headerOk) return { includeDirs, libs: [...libs, ...libDirs.map((d) => `-Wl,-rpath,${d}`)] };
  }
  // No pkg-config: look for OpenBLAS's cblas.h (openblas_config.h next to it) and libopenblas.
  const arch = { x64: "x86_64", arm64: "aarch64", ppc64: "powerpc64le", s390x: "s390x" }[process.arch] ?? process.arch;
  const includeCandidates = [
    `/usr/include/${arch}-linux-gnu/openblas-pthread`,
    `/usr/include/${arch}-linux-gnu`,
    "/usr/include/openblas",
    "/usr/include",
    "/usr/local/include/openblas",
    "/usr/local/include",
    "/opt/OpenBLAS/include",
    "/opt/homebrew/opt/openblas/include",
    "/usr/local/opt/openblas/include",
  ];
  const libCandidates = [
    `/usr/lib/${arch}-linux-gnu/openblas-pthread`,
    `/usr/lib/${arch}-linux-gnu`,
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
    "/opt/OpenBLAS/lib",
    "/opt/homebrew/opt/openblas/lib",
    "/usr/local/opt/openblas/lib",
  ];
  const inc = includeCandidates.find((d) => existsSync(join(d, "cblas.h")) && existsSync(join(d, "openblas_config.h")));
  const lib = libCandidates.find((d) => ["libopenblas.so", "libopenblas.dylib", "libopenblas.a"].some((f) => existsSync(join(d, f))));
  if (!inc || !lib) return null;
  return { includeDirs: [inc], libs: [`-L${lib}`, "-lopenblas", `-Wl,-rpath,${lib}`] };
}

const found = detect();
const what = process.argv[2];
if (what === "have") console.log(found ? "1" : "0");
else if (what === "include_dirs") console.log((found?.includeDirs ?? []).join("\n"));
else if (what === "libraries") console.log((found?.libs ?? []).join("\n"));
else {
  console.error("usage: node native/detect-blas.mjs have|include_dirs|libraries");
  process.exit(2);
}
