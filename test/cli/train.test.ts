// `engram train`, `engram eval` and `engram info` through main(argv): exit codes (0 ok, 1 runtime
// failure, 2 usage error), config files, resume, and what reaches stdout and stderr.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import * as eg from "../../src/index.js";
import { main } from "../../src/cli/main.js";
import { trainCommand } from "../../src/cli/train.js";
import type { RunConfigLayer } from "../../src/cli/run-config.js";
import { modelSpec } from "../../src/models/registry.js";
import { CHECKPOINT_FORMAT, loadCheckpoint } from "../../src/train/checkpoint.js";
import { VERSION } from "../../src/version.js";
import { readMetrics, tempDir } from "../train/helpers.js";

/** Runs the command line, capturing console output and everything written to stderr. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" "))),
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ") + "\n")),
    vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
      err.push(String(s));
      return true;
    }),
  ];
  try {
    return { code: await main(args), out: out.join("\n"), err: err.join("") };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

afterEach(() => {
  // a command must report failure through main's return value, never by setting this
  const leaked = process.exitCode;
  process.exitCode = undefined;
  expect(leaked).toBeUndefined();
});

const dir = tempDir("cli-");
const YAML = join(dir, "tiny.yaml");
writeFileSync(
  YAML,
  [
    "model:",
    "  hiddenSize: 16",
    "task:",
    "  width: 4",
    "  maxLength: 4",
    "training:",
    "  steps: 50",
    "  batchSize: 4",
    "  evalEvery: 2",
    "  evalBatches: 1",
    "",
  ].join("\n"),
);
const JSON_CONFIG = join(dir, "tiny.json");
writeFileSync(
  JSON_CONFIG,
  JSON.stringify({
    model: { hiddenSize: 8 },
    task: { width: 3, maxLength: 3 },
    training: { steps: 2, batchSize: 2, evalBatches: 1, lr: 0.01 },
  }),
);
const RUN = join(dir, "run");

describe("engram train", () => {
  it("trains, writes checkpoint.safetensors and metrics.jsonl, progress to stderr and the summary to stdout", async () => {
    const r = await cli("train", "lstm", "--task", "copy", "--steps", "3", "--config", YAML, "--out", RUN);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^done at step 3: loss \d\.\d{4} {2}bitAccuracy /);
    expect(r.out).toContain(`checkpoint: ${join(RUN, "checkpoint.safetensors")}`);
    expect(r.out).not.toMatch(/3\/3/);
    expect(r.err).toMatch(/3\/3/);
    expect(r.err).toMatch(/step 2: loss /);
    expect(
      readMetrics(RUN)
        .filter((m) => m.split === "train")
        .map((m) => m.step),
    ).toEqual([1, 2, 3]);
    const ck = await loadCheckpoint(join(RUN, "checkpoint.safetensors"));
    expect(ck.meta.step).toBe(3);
  });

  it("applies a YAML config file, with flags overriding it", async () => {
    const ck = await loadCheckpoint(join(RUN, "checkpoint.safetensors"));
    expect(ck.meta.model).toEqual({ name: "lstm", config: { hiddenSize: 16, numLayers: 1 } });
    expect(ck.meta.task).toEqual({ name: "copy", config: { seed: 0, width: 4, minLength: 1, maxLength: 4 } });
    // steps from the flag, batchSize and evalEvery from the file, the rest from the model's defaults
    const defaults = modelSpec("lstm").training;
    expect(ck.meta.training).toMatchObject({
      steps: 3,
      batchSize: 4,
      evalEvery: 2,
      evalBatches: 1,
      optimizer: defaults.optimizer,
      lr: defaults.lr,
    });
  });

  it("applies a JSON config file, with flags overriding it", async () => {
    const out = join(dir, "json-run");
    const r = await cli("train", "lstm", "--task", "copy", "--config", JSON_CONFIG, "--batch-size", "3", "--seed", "4", "--out", out);
    expect(r.code).toBe(0);
    const ck = await loadCheckpoint(join(out, "checkpoint.safetensors"));
    expect(ck.meta.step).toBe(2);
    expect(ck.meta.model.config).toEqual({ hiddenSize: 8, numLayers: 1 });
    expect(ck.meta.task!.config).toMatchObject({ width: 3, maxLength: 3 });
    expect(ck.meta.training).toMatchObject({ steps: 2, batchSize: 3, lr: 0.01, seed: 4 });
    expect(ck.model.get("head.weight")!.shape).toEqual([3, 8]);
  });

  it("exits 1 with an engram: message when the run turns non-finite, keeping the last good checkpoint", async () => {
    const out = join(dir, "blowup");
    const r = await cli("train", "lstm", "--task", "copy", "--config", YAML, "--steps", "4", "--lr", "1e300", "--out", out);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^stopped at step 0/);
    expect(r.err).toMatch(
      /engram: non-finite value at step 1: parameter \S+ has -?Infinity at flat index \d+ \(the last good checkpoint was kept\)/,
    );
  });

  it("starts a new log when a fresh run reuses an old run's directory", async () => {
    const out = join(dir, "again");
    for (const steps of ["3", "2"])
      expect((await cli("train", "lstm", "--task", "copy", "--config", YAML, "--steps", steps, "--out", out)).code).toBe(0);
    expect(readMetrics(out).map((m) => `${String(m.split)} ${String(m.step)}`)).toEqual(["train 1", "train 2", "validation 2"]);
    expect((await loadCheckpoint(join(out, "checkpoint.safetensors"))).meta.step).toBe(2);
  });

  const usage: [string, string[], RegExp][] = [
    [
      "an unknown model, with a suggestion",
      ["train", "lstn", "--task", "copy"],
      /engram: createModel: unknown model "lstn".*did you mean "lstm"/,
    ],
    [
      "an unknown task, with a suggestion",
      ["train", "lstm", "--task", "coppy", "--out", join(dir, "x")],
      /unknown task "coppy".*did you mean "copy"/,
    ],
    ["a missing --task", ["train", "lstm", "--out", join(dir, "x")], /engram: train: --task is required/],
    ["--steps 0", ["train", "lstm", "--task", "copy", "--steps", "0"], /--steps must be an integer >= 1/],
    ["--steps abc", ["train", "lstm", "--task", "copy", "--steps", "abc"], /--steps must be an integer >= 1/],
    ["--lr -1", ["train", "lstm", "--task", "copy", "--lr", "-1"], /--lr must be a positive number/],
    ["an unknown option", ["train", "lstm", "--task", "copy", "--stpes", "3"], /unknown option '--stpes'/],
    ["a missing config file", ["train", "lstm", "--task", "copy", "--config", join(dir, "none.yaml")], /engram: --config: cannot read/],
  ];
  for (const [name, args, message] of usage) {
    it(`exits 2 on ${name}`, async () => {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.out).toBe("");
    });
  }

  const badConfigs: [string, string, RegExp][] = [
    ["an unknown section", "modle:\n  hiddenSize: 4\n", /unknown section "modle".*did you mean "model"/],
    ["an unknown training setting", "training:\n  step: 4\n", /unknown training setting "step".*did you mean "steps"/],
    ["an unknown model option", "model:\n  hidenSize: 4\n", /lstm: unknown option "hidenSize".*did you mean "hiddenSize"/],
    ["a section that is not an object", "task: 3\n", /section task must be an object/],
    ["invalid YAML", "model: [1, 2\n", /is not valid YAML/],
    ["a bad training value", "training:\n  batchSize: 0\n", /batchSize must be an integer >= 1/],
    ["momentum for adam", "training:\n  optimizer: adam\n  momentum: 0.5\n", /momentum applies to sgd and rmsprop/],
    ["momentum of 1", "training:\n  optimizer: sgd\n  momentum: 1\n", /momentum must be a number in \[0, 1\)/],
    [
      "lrPhases with lrDecayEvery",
      "training:\n  lrPhases: [[0, 1]]\n  lrDecayEvery: 2\n  lrDecayFactor: 0.5\n",
      /lrPhases and lrDecayEvery are two schedules/,
    ],
    ["lrPhases not from step 0", "training:\n  lrPhases: [[5, 1]]\n", /lrPhases: the first phase must start at step 0, got 5/],
    ["lrPhases out of order", "training:\n  lrPhases: [[0, 1], [4, 0.5], [2, 0.1]]\n", /lrPhases: phase 2 start must be >= 5/],
    ["eps for sgd", "training:\n  optimizer: sgd\n  eps: 0.01\n", /eps applies to adam and rmsprop, not sgd/],
    ["eps of 0", "training:\n  optimizer: rmsprop\n  eps: 0\n", /eps must be a positive number, got 0/],
    ["a decay step without its factor", "training:\n  lrDecayEvery: 5\n", /lrDecayEvery and lrDecayFactor go together/],
  ];
  for (const [name, text, message] of badConfigs) {
    it(`exits 2 on a config file with ${name}`, async () => {
      const path = join(dir, `bad-${name.replace(/\W+/g, "-")}.yaml`);
      writeFileSync(path, text);
      const r = await cli("train", "lstm", "--task", "copy", "--steps", "1", "--config", path, "--out", join(dir, "never"));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^engram: /);
      expect(r.err).toMatch(message);
    });
  }
});

describe("engram train --set", () => {
  it("overrides the config file's settings, keeping YAML types", async () => {
    const out = join(dir, "set");
    const r = await cli(
      "train",
      "lstm",
      "--task",
      "copy",
      "--config",
      YAML,
      "--out",
      out,
      "--set",
      "model.hiddenSize=8",
      "--set",
      "task.maxLength=3",
      "--set",
      "training.steps=2",
      "--set",
      "training.optimizer=sgd",
    );
    expect(r.code, r.err).toBe(0);
    const ck = await loadCheckpoint(join(out, "checkpoint.safetensors"));
    expect(ck.meta.model.config).toMatchObject({ hiddenSize: 8 });
    expect(ck.meta.task?.config).toMatchObject({ width: 4, maxLength: 3 });
    expect(ck.meta.training).toMatchObject({ steps: 2, optimizer: "sgd", batchSize: 4 });
  });

  const bad: [string, string, RegExp][] = [
    ["no section", "hiddenSize=8", /--set: expected section\.key=value/],
    ["an unknown section", "modle.hiddenSize=8", /unknown section "modle".*did you mean "model"/],
    ["an unknown model option", "model.hidenSize=8", /lstm: unknown option "hidenSize"/],
    ["bad YAML", "model.hiddenSize=[1", /the value is not valid YAML/],
  ];
  for (const [name, setting, message] of bad) {
    it(`exits 2 on ${name}`, async () => {
      const r = await cli("train", "lstm", "--task", "copy", "--steps", "1", "--set", setting, "--out", join(dir, "never"));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    });
  }

  it("cannot be combined with --resume", async () => {
    const r = await cli("train", "lstm", "--resume", join(dir, "set"), "--set", "training.steps=3");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--config and --set cannot be combined with --resume/);
  });
});

describe("engram train learning-rate decay and momentum", () => {
  /** `run` trained for `steps` in one go and stopped at `stop` then resumed: each one's per-step lr and loss. */
  async function wholeAndResumed(name: string, run: RunConfigLayer, steps: number, stop: number) {
    const [dirA, dirB] = [join(dir, `${name}-whole`), join(dir, `${name}-split`)];
    await trainCommand("lstm", { task: "copy", run, steps, out: dirA, progress: false });
    await trainCommand("lstm", { task: "copy", run, steps: stop, out: dirB, progress: false });
    await trainCommand("lstm", { resume: dirB, steps, progress: false });
    return [dirA, dirB].map((d) => {
      const train = readMetrics(d).filter((m) => m.split === "train");
      return { lrs: train.map((m) => m.lr as number), losses: train.map((m) => m.loss) };
    });
  }

  it("multiplies the learning rate every lrDecayEvery steps, and resumes mid-schedule bit for bit", async () => {
    const [whole, resumed] = await wholeAndResumed(
      "decay",
      {
        model: { hiddenSize: 8 },
        task: { width: 4, maxLength: 3 },
        training: { optimizer: "sgd", momentum: 0, lr: 0.1, batchSize: 4, lrDecayEvery: 3, lrDecayFactor: 0.5 },
      },
      8,
      4,
    );
    // the lr a step used: 3 steps at 0.1, 3 at 0.05, then 0.025
    expect(whole!.lrs).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]);
    expect(resumed).toEqual(whole);
  });

  it("lrPhases holds each factor from its step on, and resumes mid-schedule bit for bit", async () => {
    const phases: [number, number][] = [
      [0, 0.5],
      [2, 1],
      [5, 0.25],
    ];
    const [whole, resumed] = await wholeAndResumed(
      "phases",
      {
        model: { hiddenSize: 8 },
        task: { width: 4, maxLength: 3 },
        training: { optimizer: "sgd", momentum: 0, lr: 0.2, batchSize: 4, lrPhases: phases },
      },
      7,
      3,
    );
    expect(whole!.lrs).toEqual([0.1, 0.1, 0.2, 0.2, 0.2, 0.05, 0.05]);
    expect(resumed).toEqual(whole);
  });

  it("passes momentum 0 to sgd, which then keeps no velocity buffer (the default 0.9 would)", async () => {
    const out = join(dir, "plain-sgd");
    await trainCommand("lstm", {
      task: "copy",
      run: { model: { hiddenSize: 8 }, task: { width: 4, maxLength: 3 }, training: { optimizer: "sgd", momentum: 0, batchSize: 4 } },
      steps: 1,
      out,
      progress: false,
    });
    const ck = await loadCheckpoint(join(out, "checkpoint.safetensors"));
    for (const st of Object.values(ck.optimizer!.state)) expect(Object.keys(st.buffers)).not.toContain("momentumBuffer");
  });
});

describe("engram train eps", () => {
  it("reaches rmsprop and adam: the checkpoint's optimizer keeps it, and the first step differs from the default's", async () => {
    for (const optimizer of ["rmsprop", "adam"] as const) {
      const losses: number[][] = [];
      for (const eps of [undefined, 0.5]) {
        const out = join(dir, `eps-${optimizer}-${eps ?? "default"}`);
        const training = { optimizer, batchSize: 4, lr: 0.01, ...(eps !== undefined ? { eps } : {}) };
        await trainCommand("lstm", {
          task: "copy",
          run: { model: { hiddenSize: 8 }, task: { width: 4, maxLength: 3 }, training },
          steps: 2,
          out,
          progress: false,
        });
        const ck = await loadCheckpoint(join(out, "checkpoint.safetensors"));
        expect(ck.optimizer!.paramGroups[0]!.eps).toBe(eps ?? 1e-8);
        losses.push(
          readMetrics(out)
            .filter((m) => m.split === "train")
            .map((m) => m.loss as number),
        );
      }
      // the same first batch and weights; the second loss shows the first update differed
      expect(losses[1]![0]).toBe(losses[0]![0]);
      expect(losses[1]![1]).not.toBe(losses[0]![1]);
    }
  });
});

describe("engram train --resume", () => {
  // the same run without interruption (12 steps) and stopped at 6 then resumed to 12
  it("continues bit for bit (trainCommand), and checks the model and task it resumes", async () => {
    const dirA = join(dir, "whole");
    const dirB = join(dir, "split");
    const common = { task: "copy", config: YAML, progress: false as const };
    await trainCommand("lstm", { ...common, steps: 12, out: dirA });
    await trainCommand("lstm", { ...common, steps: 6, out: dirB });
    const r = await trainCommand("lstm", { resume: dirB, steps: 12, progress: false });
    expect(r).toMatchObject({ step: 12, stoppedBy: "steps", outDir: dirB });

    const train = (d: string) => readMetrics(d).filter((m) => m.split === "train" && (m.step as number) > 6);
    expect(train(dirA)).toHaveLength(6);
    expect(train(dirB)).toEqual(train(dirA));
    const [a, b] = await Promise.all([dirA, dirB].map((d) => loadCheckpoint(join(d, "checkpoint.safetensors"))));
    for (const [k, t] of a!.model) expect(Array.from(b!.model.get(k)!.data), k).toEqual(Array.from(t.data));
    for (const [i, st] of Object.entries(a!.optimizer!.state)) {
      for (const [name, t] of Object.entries(st.buffers))
        expect(Array.from(b!.optimizer!.state[i]!.buffers[name]!.data)).toEqual(Array.from(t.data));
    }
    expect(b!.meta).toEqual(a!.meta);
    expect(readFileSync(join(dirB, "checkpoint.safetensors")).equals(readFileSync(join(dirA, "checkpoint.safetensors")))).toBe(true);
  });

  it("resumes from the command line, and refuses another model or task", async () => {
    const r = await cli("train", "lstm", "--resume", RUN, "--steps", "4");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^done at step 4/);
    expect((await loadCheckpoint(join(RUN, "checkpoint.safetensors"))).meta.step).toBe(4);
    const wrongTask = await cli("train", "lstm", "--resume", RUN, "--task", "sort");
    expect(wrongTask.code).toBe(2);
    expect(wrongTask.err).toMatch(/was trained on copy, not sort/);
    const withConfig = await cli("train", "lstm", "--resume", RUN, "--config", YAML);
    expect(withConfig.code).toBe(2);
    expect(withConfig.err).toMatch(/--config and --set cannot be combined with --resume/);
    const missing = await cli("train", "lstm", "--resume", join(dir, "nowhere"));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^engram: loadSafetensors: cannot read /);
  });

  it("resumes a checkpoint file of any name into its own directory", async () => {
    const other = join(dir, "other");
    mkdirSync(other);
    copyFileSync(join(RUN, "checkpoint.safetensors"), join(other, "best.safetensors"));
    const r = await trainCommand("lstm", { resume: join(other, "best.safetensors"), steps: 5, progress: false });
    expect(r).toMatchObject({ step: 5, outDir: other, checkpoint: join(other, "checkpoint.safetensors") });
    expect(readdirSync(other).sort()).toEqual(["best.safetensors", "checkpoint.safetensors", "metrics.jsonl"]);
  });
});

describe("engram info and eval", () => {
  it("info shows the model, task, training settings, step and metrics", async () => {
    const r = await cli("info", RUN);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`checkpoint   ${join(RUN, "checkpoint.safetensors")}`);
    expect(r.out).toContain(`engram       ${VERSION} (format ${CHECKPOINT_FORMAT})`);
    expect(r.out).toContain("model        lstm  hiddenSize=16 numLayers=1");
    expect(r.out).toContain("parameters   1,540 in 6 tensors");
    expect(r.out).toContain("task         copy  seed=0 width=4 minLength=1 maxLength=4");
    expect(r.out.split("\n")).toContain("step         4");
    expect(r.out).toMatch(/^metrics {6}loss \d\.\d{4} {2}bitAccuracy/m);
  });

  it("eval reports the test metrics, on other lengths with --lengths", async () => {
    const r = await cli("eval", RUN, "--batches", "2");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^lstm on copy \(test\), step 4\n {2}loss {19}\d\.\d{4}\n {2}bitAccuracy /);
    const longer = await cli("eval", join(RUN, "checkpoint.safetensors"), "--lengths", "6:8", "--split", "validation", "--batches", "1");
    expect(longer.code).toBe(0);
    expect(longer.out).toMatch(/^lstm on copy \(validation, lengths 6-8\), step 4/);
    expect(longer.out).not.toEqual(r.out);
  });

  for (const [args, message] of [
    [["--lengths", "6-8"], /engram: eval: --lengths must look like 20:30/],
    [["--split", "train"], /engram: eval: --split must be test or validation/],
    [["--batches", "0"], /--batches must be an integer >= 1/],
  ] as const) {
    it(`eval exits 2 on ${args.join(" ")}`, async () => {
      const r = await cli("eval", RUN, ...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    });
  }

  describe("on corrupt or hostile files", () => {
    // built lazily: the run the truncated case cuts is written by an earlier test
    const good = () => readFileSync(join(RUN, "checkpoint.safetensors"));
    const meta = { format: CHECKPOINT_FORMAT, engramVersion: VERSION, model: { name: "lstm", config: { hiddenSize: 16 } }, step: 1 };
    const withMeta =
      (m: unknown, tensors: Record<string, eg.Tensor> = {}) =>
      () =>
        eg.encodeSafetensors(tensors, { engram: JSON.stringify(m) });
    const cases: [string, () => Uint8Array][] = [
      ["truncated", () => good().subarray(0, good().length >> 1)],
      ["garbage", () => Uint8Array.from({ length: 300 }, (_, i) => (i * 7919) % 251)],
      ["plain safetensors", () => eg.encodeSafetensors({ w: eg.zeros([2]) })],
      ["metadata not JSON", () => eg.encodeSafetensors({}, { engram: "{" })],
      ["format 99", withMeta({ ...meta, format: 99 })],
      ["metrics not numbers", withMeta({ ...meta, metrics: { loss: "x" } })],
      ["no task", withMeta(meta)],
      [
        "an unbuildable model",
        withMeta({ ...meta, model: { name: "lstm", config: { hiddenSize: "big" } }, task: { name: "copy", config: {} } }),
      ],
      ["an unknown task", withMeta({ ...meta, task: { name: "nope", config: {} } })],
      [
        "weights of the wrong shape",
        withMeta({ ...meta, task: { name: "copy", config: { width: 4 } } }, { "model.head.weight": eg.zeros([1]) }),
      ],
    ];
    for (const [name, bytes] of cases) {
      it(`info and eval exit 1 naming the file: ${name}`, async () => {
        const path = join(dir, `hostile-${name.replace(/\W+/g, "-")}.safetensors`);
        writeFileSync(path, bytes());
        const info = await cli("info", path);
        const infoFails = !["no task", "an unbuildable model", "an unknown task", "weights of the wrong shape"].includes(name);
        // info only reads the file; eval also rebuilds the model and task from it
        expect(info.code).toBe(infoFails ? 1 : 0);
        if (infoFails) expect(info.err).toMatch(new RegExp(`^engram: load\\w+: .*${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
        const ev = await cli("eval", path);
        expect(ev.code).toBe(1);
        expect(ev.err).toMatch(/^engram: /);
        expect(ev.err).toContain(path);
        expect(ev.out).toBe("");
      });
    }
  });
});
