/**
 * Benchmark entry point: `npm run bench -- <suite> [--json FILE] [--quick] [--only SUBSTRING]
 * [--unset-openblas-env]`. Prints the environment, a table grouped by workload and notes on
 * stdout (progress on stderr), and optionally writes the same as JSON.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { suggest } from "../src/core/suggest.js";
import { ArgsError, helpText, parseArgs } from "./args.js";
import { describeEnv, envChanges, machineInfo, reexecWithoutOpenblasEnv, REEXEC_MARKER } from "./env.js";
import { applyRatios, DEFAULT_TIMING, QUICK_TIMING } from "./harness.js";
import { formatHeader, formatNotes, formatTable, toJson, type BenchDocument } from "./report.js";
import { matchesOnly } from "./suite.js";
import { SUITES } from "./suites/index.js";

async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    console.error(`bench: ${err.message}\nRun with --help for usage.`);
    return 2;
  }
  if (args.help) {
    console.log(helpText(SUITES));
    return 0;
  }
  if (args.suite === undefined) {
    console.error(`bench: which suite? (${SUITES.map((s) => s.name).join(", ")})\n\n${helpText(SUITES)}`);
    return 2;
  }
  const suite = SUITES.find((s) => s.name === args.suite);
  if (!suite) {
    const hint = suggest(
      args.suite,
      SUITES.map((s) => s.name),
    );
    console.error(
      `bench: unknown suite ${JSON.stringify(args.suite)}${hint ? ` (did you mean ${hint}?)` : ""}; suites: ${SUITES.map((s) => s.name).join(", ")}`,
    );
    return 2;
  }
  if (args.unsetOpenblasEnv && process.env[REEXEC_MARKER] === undefined) {
    console.error(
      "bench: --unset-openblas-env: re-running the whole bench with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (every contender alike)",
    );
    return reexecWithoutOpenblasEnv();
  }

  const started = performance.now();
  const doc: BenchDocument = {
    suite: suite.name,
    command: ["npm run bench --", ...argv].join(" "),
    date: new Date().toISOString(),
    quick: args.quick,
    machine: machineInfo(),
    env: describeEnv(process.env),
    contenders: {},
    notes: [],
    rows: [],
  };
  if (args.only !== undefined) doc.only = args.only;
  console.log(formatHeader(doc));

  const only = args.only;
  const result = await suite.run({
    quick: args.quick,
    timing: args.quick ? QUICK_TIMING : DEFAULT_TIMING,
    selected: (workload, contender) => matchesOnly(only, workload, contender),
    log: (message) => console.error(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${message}`),
  });
  doc.rows = applyRatios(result.rows);
  const envAtEnd = describeEnv(process.env);
  const changes = envChanges(doc.env, envAtEnd);
  if (changes.length > 0) doc.env_at_end = envAtEnd;
  doc.notes = [...changes.map((c) => `env: ${c} (contenders started after the change inherited it)`), ...result.notes];
  doc.contenders = result.contenders;

  if (doc.rows.length === 0) console.log(`\nNo workload matched --only ${JSON.stringify(only)}.`);
  else console.log(`\n${formatTable(doc.rows)}`);
  const notes = formatNotes(doc);
  if (notes) console.log(`\n${notes}`);
  if (args.json !== undefined) {
    mkdirSync(path.dirname(path.resolve(args.json)), { recursive: true });
    writeFileSync(args.json, toJson(doc));
    console.log(`\nWrote ${args.json}`);
  }
  console.error(`bench: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
