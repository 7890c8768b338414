// The model registry: configs are validated, and a config's implied size is known before building.
import { describe, expect, it } from "vitest";
import { createModel, modelSpec, modelSpecs } from "../../src/models/registry.js";
import { createTask } from "../../src/tasks/registry.js";
import { ArgumentError } from "../../src/core/errors.js";

describe("model registry", () => {
  const copy = createTask("copy", { width: 5, maxLength: 3 });

  it.each([[{ hiddenSize: 7, numLayers: 1 }], [{ hiddenSize: 16, numLayers: 2 }], [{ hiddenSize: 3, numLayers: 3 }]])(
    "parameterCount matches the built model (%o)",
    (config) => {
      for (const spec of modelSpecs()) {
        const { model, config: full } = createModel(spec.name, config, copy);
        expect(spec.parameterCount(full, copy)).toBe(model.numParameters());
      }
    },
  );

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
