/** The `engram` command. Exit codes: 0 ok, 1 runtime failure, 2 usage error. */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { ArgumentError, EngramError } from "../core/errors.js";
import { modelSpecs } from "../models/registry.js";
import { taskInfo } from "../tasks/registry.js";
import { runDemo } from "./demo.js";
import { doctorReport } from "./doctor.js";
import { evalCommand, infoCommand, trainCommand } from "./train.js";
import { terminalColorMode } from "../viz/heatmap-terminal.js";
import { vizCommand, type VizFlags } from "./viz.js";
import { compareCommand, type CompareFlags } from "./compare.js";

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

/** Name, description and a detail line per entry, descriptions aligned after the longest name. */
function listing(rows: readonly { name: string; description: string; detail: string }[]): string[] {
  const width = Math.max(...rows.map((r) => r.name.length)) + 2;
  return rows.flatMap((r) => [`${r.name.padEnd(width)}${r.description}`, `${"".padEnd(width)}${r.detail}`]);
}

export function buildProgram(): Command {
  const program = new Command("engram")
    .description("Attention mechanisms and memory-augmented neural networks: train them, and see what they attend to.")
    .showSuggestionAfterError(true)
    .exitOverride();
  program
    .command("demo")
    .description("train a small seq2seq with attention to normalise dates, then draw where it looks (under a minute)")
    .option("--steps <n>", "Adam steps", intArg("--steps", 1), 400)
    .option("--seed <n>", "random seed", intArg("--seed", 0), 0)
    .option("--out <dir>", "run directory", "runs/demo")
    .option("--input <date>", "the date whose attention is drawn", "the 4th of July 2023")
    .addHelpText(
      "after",
      '\nExamples:\n  engram demo\n  engram demo --input "Sat 29 Feb 2020"\n  engram demo --steps 1000 --out runs/dates\n  ENGRAM_BACKEND=ts engram demo --steps 100',
    )
    .action(async (o: { steps: number; seed: number; out: string; input: string }) => {
      await runDemo({
        ...o,
        log: (l) => console.log(l),
        progress: process.stderr,
        width: process.stdout.columns ?? 100,
        color: terminalColorMode(process.env, process.stdout.isTTY === true),
      });
    });
  program
    .command("train")
    .description("train a model on a task, writing a checkpoint and metrics.jsonl to --out")
    .argument("<model>", "model name (see `engram models`)")
    .option("--task <name>", "task name (see `engram tasks`)")
    .option("--steps <n>", "optimizer steps", intArg("--steps", 1))
    .option("--batch-size <n>", "examples per step", intArg("--batch-size", 1))
    .option("--lr <x>", "learning rate", numArg("--lr"))
    .option("--seed <n>", "random seed (initialisation, dropout)", intArg("--seed", 0))
    .option("--eval-every <n>", "evaluate on the validation split every n steps", intArg("--eval-every", 0))
    .option("--out <dir>", "run directory (default runs/<model>-<task>)")
    .option("--resume <dir>", "continue the run saved in this directory (or checkpoint file)")
    .option("--config <file>", "JSON or YAML file with model, task and training sections; flags override it")
    .option(
      "--set <section.key=value>",
      "override one setting of the model, task or training section (repeatable; value read as YAML)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .addHelpText(
      "after",
      "\nExamples:\n  engram train lstm --task copy\n  engram train lstm --task copy --steps 500 --out runs/quick\n  engram train lstm --resume runs/quick --steps 1000\n  engram train lstm --task copy --config copy.yaml\n  engram train memn2n --task babi --set task.taskId=2 --set model.hops=1",
    )
    .action(async (model: string, o: Record<string, unknown>) => {
      const r = await trainCommand(model, { ...o, progress: process.stderr });
      const metrics = Object.entries(r.metrics)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join("  ");
      console.log(`${r.stoppedBy === "non-finite" ? "stopped" : "done"} at step ${r.step}: ${metrics}`);
      console.log(`checkpoint: ${r.checkpoint}`);
      // thrown, not process.exitCode: main's return value becomes the exit code and would reset it
      if (r.error !== undefined) throw new EngramError(`${r.error} (the last good checkpoint was kept)`);
    });
  program
    .command("eval")
    .description("evaluate a checkpoint on its task's test split (or validation), optionally at other lengths")
    .argument("<checkpoint>", "run directory or checkpoint file")
    .option("--split <name>", "test or validation", "test")
    .option("--batches <n>", "batches to evaluate", intArg("--batches", 1), 8)
    .option("--lengths <min:max>", "evaluate at these lengths (length generalisation)")
    .addHelpText("after", "\nExamples:\n  engram eval runs/lstm-copy\n  engram eval runs/lstm-copy --lengths 20:30")
    .action(async (checkpoint: string, o: { split: string; batches: number; lengths?: string }) => {
      // ArgumentError, not commander's InvalidArgumentError: thrown from an action, commander
      // would not print the latter and main would exit 2 silently
      if (o.split !== "test" && o.split !== "validation") throw new ArgumentError("eval: --split must be test or validation");
      let lengths: [number, number] | undefined;
      if (o.lengths !== undefined) {
        const m = /^(\d+):(\d+)$/.exec(o.lengths);
        if (!m) throw new ArgumentError("eval: --lengths must look like 20:30");
        lengths = [Number(m[1]), Number(m[2])];
      }
      const { meta, metrics } = await evalCommand(checkpoint, { split: o.split, batches: o.batches, ...(lengths ? { lengths } : {}) });
      console.log(
        `${meta.model.name} on ${meta.task?.name ?? "?"} (${o.split}${lengths ? `, lengths ${lengths.join("-")}` : ""}), step ${meta.step}`,
      );
      for (const [k, v] of Object.entries(metrics)) console.log(`  ${k.padEnd(22)} ${v.toFixed(4)}`);
    });
  program
    .command("compare")
    .description("score trained runs at several input lengths side by side: a Markdown table and an SVG chart")
    .argument("<runs...>", "run directories or checkpoint files")
    .requiredOption("--lengths <list>", "comma-separated input lengths, e.g. 5,10,20,40")
    .option("--metric <name>", "metric to compare (default exactMatch)")
    .option("--batches <n>", "batches of 32 test examples per length", intArg("--batches", 1), 4)
    .option("--out <dir>", "write compare.md and compare.svg here")
    .option("--title <text>", "chart title")
    .addHelpText(
      "after",
      "\nExamples:\n  engram compare runs/len-none runs/len-bahdanau --lengths 5,10,20,30,40\n  engram compare runs/lstm-copy --lengths 10,20,40 --metric bitAccuracy --out docs/copy",
    )
    .action(async (runs: string[], o: CompareFlags) => {
      const r = await compareCommand(runs, { ...o, onRun: (name) => console.error(`engram: scored ${name}`) });
      console.log(r.markdown);
      for (const f of r.files) console.log(`wrote ${f}`);
    });
  program
    .command("viz")
    .description("draw what a model attends to or remembers on one example: SVG, PNG, HTML report, terminal, bertviz JSON")
    .argument("<checkpoint>", "run directory or checkpoint file")
    .option("--input <text>", "the example as text in the task's notation (token tasks)")
    .option("--example <n>", "example n of the test split (default 0)", intArg("--example", 0))
    .option("--format <list>", "comma-separated: svg, png, html, terminal, bertviz", "svg,html")
    .option("--out <dir>", "output directory (default: viz/ beside the checkpoint)")
    .option("--map <name>", "only this map, or this family of maps (e.g. encoder)")
    .option("--width <n>", "terminal columns for --format terminal (default: the terminal's)", intArg("--width", 20))
    .addHelpText(
      "after",
      '\nExamples:\n  engram viz runs/seq2seq-reverse --input "abc"\n  engram viz runs/transformer-sort --example 3 --format html,png\n  engram viz runs/seq2seq-reverse --format terminal\n  engram viz runs/transformer-sort --format bertviz',
    )
    .action(async (checkpoint: string, o: VizFlags) => {
      const r = await vizCommand(checkpoint, {
        ...o,
        width: o.width ?? process.stdout.columns ?? 80,
        color: terminalColorMode(process.env, process.stdout.isTTY === true),
      });
      if (r.terminal !== "") console.log(r.terminal.trimEnd());
      for (const f of r.files) console.log(`wrote ${f}`);
      for (const n of r.notes) console.error(`engram: ${n}`);
    });
  program
    .command("info")
    .description("show what a checkpoint holds: model, task, training settings, step, metrics")
    .argument("<checkpoint>", "run directory or checkpoint file")
    .addHelpText("after", "\nExamples:\n  engram info runs/lstm-copy\n  engram info runs/lstm-copy/checkpoint.safetensors")
    .action(async (checkpoint: string) => {
      for (const l of await infoCommand(checkpoint)) console.log(l);
    });
  program
    .command("models")
    .description("list the models `engram train` knows")
    .addHelpText("after", "\nExample:\n  engram models")
    .action(() => {
      const rows = modelSpecs().map((m) => ({
        name: m.name,
        description: m.description,
        detail: `tasks: ${m.kinds.join(", ")}; options: ${Object.entries(m.defaults)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(" ")}`,
      }));
      for (const line of listing(rows)) console.log(line);
    });
  program
    .command("tasks")
    .description("list the tasks and their options")
    .addHelpText("after", "\nExample:\n  engram tasks")
    .action(() => {
      const rows = taskInfo().map((t) => ({
        name: t.name,
        description: t.description,
        detail: `options: ${Object.entries(t.defaults)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")}`,
      }));
      for (const line of listing(rows)) console.log(line);
    });
  program
    .command("doctor")
    .description("show the backend, BLAS, threads and CPU features in use, and why the native core failed if it did")
    .addHelpText("after", "\nExamples:\n  engram doctor\n  ENGRAM_BACKEND=ts engram doctor")
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
    if (err instanceof ArgumentError) {
      // a bad name or setting given on the command line is a usage error
      console.error(`engram: ${err.message}`);
      return 2;
    }
    if (err instanceof EngramError) {
      console.error(`engram: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
