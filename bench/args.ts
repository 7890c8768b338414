/** Command-line parsing for bench/main.ts (pure: no process access). */

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
      if (args.suite !== undefined) throw new ArgsError(`unexpected argument ${JSON.stringify(arg)}: the suite is already ${JSON.stringify(args.suite)}`);
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

/** The closest candidate within edit distance 3, for "did you mean" hints. */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const c of candidates) {
    const d = editDistance(input, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
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
