/** The `engram` command. Exit codes: 0 ok, 1 runtime failure, 2 usage error. */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { EngramError } from "../core/errors.js";
import { runDemo } from "./demo.js";
import { doctorReport } from "./doctor.js";

function intArg(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}
function numArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}

export function buildProgram(): Command {
  const program = new Command("engram")
    .description("Attention mechanisms and memory-augmented neural networks: train them, and see what they attend to.")
    .showSuggestionAfterError(true)
    .exitOverride();
  program
    .command("demo")
    .description("train a tiny model and print its loss falling (a few seconds)")
    .option("--steps <n>", "SGD steps", intArg("--steps", 1), 600)
    .option("--hidden <n>", "hidden units", intArg("--hidden", 1), 64)
    .option("--lr <x>", "learning rate", numArg("--lr"), 1)
    .option("--seed <n>", "random seed", intArg("--seed", 0), 0)
    .addHelpText("after", "\nExamples:\n  engram demo\n  engram demo --steps 2000 --hidden 128\n  ENGRAM_BACKEND=ts engram demo")
    .action((o: { steps: number; hidden: number; lr: number; seed: number }) => {
      runDemo({ ...o, log: (l) => console.log(l) });
    });
  program
    .command("doctor")
    .description("show the backend, BLAS, threads and CPU features in use, and why the native core failed if it did")
    .action(() => {
      for (const l of doctorReport()) console.log(l);
    });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof EngramError) {
      console.error(`engram: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
