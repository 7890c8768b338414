/** Command-line parsing for bench/main.ts (pure: no process access). */
import { suggest } from "../src/core/suggest.js";

export interface BenchArgs {
  suite?: string;
  json?: string;
  quick: boolean;
  only?: string;
  help: boolean;
  unsetOpenblasEnv: boolean;
}

export class ArgsError extends Error {}

const FLAGS = ["--json", "--quick", "--only", "--help", "--unset-openblas-env"] as const;
const VALUE_FLAGS = new Set(["--json", "--only"]);

export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { quick: false, help: false, unsetOpenblasEnv: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") {
      args.help = true;
      continue;
    }
    if (!arg.startsWith("-")) {
      if (args.suite !== undefined)
        throw new ArgsError(`unexpected argument ${JSON.stringify(arg)}: the suite is already ${JSON.stringify(args.suite)}`);
      args.suite = arg;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (!(FLAGS as readonly string[]).includes(name)) {
      const hint = suggest(name, FLAGS);
      throw new ArgsError(`unknown option ${name}${hint ? ` (did you mean ${hint}?)` : ""}`);
    }
    let value: string | undefined;
    if (VALUE_FLAGS.has(name)) {
      value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === "" || (eq < 0 && value.startsWith("--"))) throw new ArgsError(`${name} needs a value`);
    } else if (eq >= 0) {
      throw new ArgsError(`${name} takes no value`);
    }
    if (name === "--json") args.json = value!;
    else if (name === "--only") args.only = value!;
    else if (name === "--quick") args.quick = true;
    else if (name === "--unset-openblas-env") args.unsetOpenblasEnv = true;
  }
  return args;
}

export function helpText(suites: readonly { name: string; description: string }[]): string {
  const width = Math.max(...suites.map((s) => s.name.length));
  return [
    "Usage: npm run bench -- <suite> [options]",
    "",
    "Suites:",
    ...suites.map((s) => `  ${s.name.padEnd(width)}  ${s.description}`),
    "",
    "Options:",
    "  --json FILE             also write the results (rows + environment) as JSON",
    "  --quick                 fewer sizes and iterations (smoke test; numbers are not meaningful)",
    "  --only SUBSTRING        run only workloads or contenders whose name contains SUBSTRING",
    "  --unset-openblas-env    re-run the whole bench with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE",
    "                          unset, for every contender alike",
    "  -h, --help              this text",
    "",
    "Every contender of a workload runs in the same invocation; peers (C/OpenBLAS, PyTorch) are child",
    "processes that inherit this process's environment. See docs/benchmarks.md.",
  ].join("\n");
}
