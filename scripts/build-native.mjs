#!/usr/bin/env node
// Builds the native core (build/Release/engram_native.node) with node-gyp. Run by `npm install`;
// `--verbose` streams the full compiler output (npm run build:native).
//
// This script never fails the install: if the addon cannot be built or loaded it prints one
// warning line and Engram runs on the portable TypeScript kernels. The outcome is recorded in
// build/engram-native.json ({ ok, reason } or { ok, blas, ... }) for `engram doctor` and the loader.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const buildDir = join(root, "build");
const statusFile = join(buildDir, "engram-native.json");
const addonFile = join(buildDir, "Release", "engram_native.node");
const verbose = process.argv.includes("--verbose");

function writeStatus(status) {
  try {
    mkdirSync(buildDir, { recursive: true });
    writeFileSync(statusFile, JSON.stringify({ ...status, node: process.version, date: new Date().toISOString() }, null, 2) + "\n");
  } catch {
    // the status file is informative only
  }
}

/** The informative end of a build log: node-gyp's progress and stack-trace lines removed. */
function tail(text, lines = 15) {
  const noise = /^gyp (info|http)|^gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)|^\s*at /;
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "" && !noise.test(l))
    .slice(-lines)
    .join("\n");
}

function fail(reason) {
  writeStatus({ ok: false, reason });
  const lines = reason.split("\n");
  const first = lines.find((l) => /\berror:/.test(l)) ?? lines.find((l) => /error/i.test(l)) ?? lines[0] ?? "";
  console.warn(
    `engram: native core not built, using the portable TypeScript kernels (${first.trim().slice(0, 160)}); ` +
      "run `npm run build:native` for details",
  );
}

/** node-gyp's entry script: the one npm provides, else npm's bundled copy, else a local install. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) {
    // <npm>/bin/npm-cli.js -> <npm>/node_modules/node-gyp/bin/node-gyp.js
    candidates.push(join(dirname(process.env.npm_execpath), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  }
  const prefix = resolve(dirname(process.execPath), "..");
  candidates.push(join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  candidates.push(join(dirname(process.execPath), "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  for (const c of candidates) if (c && existsSync(c)) return c;
  try {
    return createRequire(join(root, "package.json")).resolve("node-gyp/bin/node-gyp.js");
  } catch {
    return null;
  }
}

/** Headers of the running Node: npm's nodedir if configured, else the install prefix when it ships them. */
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), "..");
  if (existsSync(join(prefix, "include", "node", "common.gypi"))) return prefix;
  return null; // node-gyp falls back to its cache (or downloads the headers)
}

function run(cmd, args) {
  return new Promise((done) => {
    let output = "";
    const child = spawn(cmd, args, { cwd: root, stdio: verbose ? "inherit" : ["ignore", "pipe", "pipe"] });
    if (!verbose) {
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
    }
    child.on("error", (err) => done({ code: -1, output: output + String(err) }));
    child.on("close", (code) => done({ code: code ?? -1, output }));
  });
}

/** Loads the addon in a child process (a crash there cannot take down the install) and reads info(). */
function probe() {
  const script = `const a = require(${JSON.stringify(addonFile)}); process.stdout.write(JSON.stringify({ abiVersion: a.abiVersion, ...a.info() }));`;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) return { error: tail(`${r.stderr ?? ""}${r.error ? String(r.error) : ""}`) || `exit status ${r.status}` };
  try {
    return { info: JSON.parse(r.stdout) };
  } catch {
    return { error: `unexpected probe output: ${r.stdout.slice(0, 200)}` };
  }
}

async function main() {
  if (process.env.ENGRAM_SKIP_NATIVE === "1") {
    writeStatus({ ok: false, reason: "skipped: ENGRAM_SKIP_NATIVE=1" });
    if (verbose) console.log("engram: native build skipped (ENGRAM_SKIP_NATIVE=1)");
    return;
  }
  const gyp = findNodeGyp();
  if (!gyp) {
    fail("node-gyp not found (it ships with npm; set npm_config_node_gyp to its node-gyp.js)");
    return;
  }
  const args = [gyp, "rebuild", "--release", "-j", "max"];
  const nodedir = findNodeDir();
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  if (verbose) {
    args.push("--verbose");
    console.log(`engram: ${process.execPath} ${args.join(" ")}`);
  }
  const { code, output } = await run(process.execPath, args);
  if (code !== 0 || !existsSync(addonFile)) {
    fail(tail(output) || `node-gyp exited with status ${code}`);
    return;
  }
  const p = probe();
  if (p.error) {
    fail(`the addon was built but does not load: ${p.error}`);
    return;
  }
  const info = p.info;
  writeStatus({
    ok: true,
    blas: info.openblas ? "openblas" : "builtin",
    openblasVersion: info.openblasVersion,
    gemmKernel: info.gemmKernel,
    threads: info.threads,
    cpu: info.cpu,
    abiVersion: info.abiVersion,
  });
  const blas = info.openblas ? `OpenBLAS${info.openblasVersion ? " " + info.openblasVersion : ""}` : "built-in GEMM";
  console.log(`engram: native core built (${blas}, ${info.gemmKernel} kernels, ${info.threads} threads)`);
}

main().catch((err) => fail(String(err?.stack ?? err)));
