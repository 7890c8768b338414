// The model registry: configs are validated, and a config's implied size is known before building.
import { describe, expect, it } from "vitest";
import { createModel, modelSpec, modelSpecs } from "../../src/models/registry.js";
import { createTask, taskNames } from "../../src/tasks/registry.js";
import type { Task } from "../../src/tasks/task.js";
import { ArgumentError } from "../../src/core/errors.js";

/** The first registered question-answering task. */
function taskOfKindQa(): Task {
  for (const name of taskNames()) {
    const task = createTask(name);
    if (task.kind === "qa") return task;
  }
  throw new Error("no qa task registered");
}

describe("model registry", () => {
  const copy = createTask("copy", { width: 5, maxLength: 3 });

  it.each([[{ hiddenSize: 7, numLayers: 1 }], [{ hiddenSize: 16, numLayers: 2 }], [{ hiddenSize: 3, numLayers: 3 }]])(
    "lstm: parameterCount matches the built model (%o)",
    (config) => {
      const { model, config: full } = createModel("lstm", config, copy);
      expect(modelSpec("lstm").parameterCount(full, copy)).toBe(model.numParameters());
    },
  );

  it("every model's parameterCount matches the built model with its defaults, on a task of each kind it handles", () => {
    const taskOfKind = { bits: copy, tokens: createTask("reverse"), qa: taskOfKindQa() };
    for (const spec of modelSpecs()) {
      expect(spec.kinds.length).toBeGreaterThan(0);
      for (const kind of spec.kinds) {
        const task = taskOfKind[kind];
        const { model, config: full } = createModel(spec.name, {}, task);
        // what a checkpoint holds: parameters and persistent buffers
        let elements = 0;
        for (const t of model.stateDict().values()) elements += t.size;
        expect(spec.parameterCount(full, task), `${spec.name} on ${task.name}`).toBe(elements);
      }
    }
  });

  it("refuses a config that does not match the weights before building anything", () => {
    // 20000 hidden units would need ~6.4 GB: the check must fail before anything is allocated
    expect(() => createModel("lstm", { hiddenSize: 20000 }, copy, { expectParameters: 1234 })).toThrow(
      /^createModel: the lstm config implies \d+ parameters but the weights hold 1234/,
    );
  });

  it("rejects unknown models, options and task kinds with suggestions", () => {
    expect(() => modelSpec("lstn")).toThrow(/did you mean "lstm"/);
    expect(() => createModel("lstm", { hiddenSise: 4 }, copy)).toThrow(ArgumentError);
    expect(() => createModel("lstm", { hiddenSise: 4 }, copy)).toThrow(/did you mean "hiddenSize"/);
    expect(() => createModel("lstm", {}, createTask("reverse", {}))).toThrow(/handles bits tasks; reverse is a tokens task/);
  });
});
