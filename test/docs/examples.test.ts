/**
 * Every TypeScript example in the README and the guides runs, type-checks against the source, and
 * prints what its `// → ...` comments say, so a doc example that breaks fails the suite. Examples
 * are written to a temporary directory as .mts modules (top-level await works, as in a user's ESM
 * project) with their `"engram"` imports pointed at src/index.ts, and imported by vitest, so they
 * run on the backend the suite runs on.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import * as eg from "../../src/index.js";
import { expectations, printed, runnable, sameOutput, tsExamples, type DocExample } from "./markdown.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ENTRY = join(ROOT, "src", "index.ts");
const DOCS = ["README.md", "docs/attention.md", "docs/models.md", "docs/memory.md"];
const REPORT = "globalThis.__engramDocPrint";

const examples: DocExample[] = DOCS.flatMap((doc) => tsExamples(doc, readFileSync(join(ROOT, doc), "utf8")));
const dir = mkdtempSync(join(tmpdir(), "engram-docs-"));
const fileOf = (e: DocExample): string => join(dir, `${e.doc.replace(/[^\w]+/g, "-")}-${e.line}.mts`);

type Printer = (line: number, ...args: unknown[]) => void;
const globals = globalThis as unknown as Record<string, Printer | undefined>;
const backend = eg.getBackend();

afterEach(() => {
  // an example may switch backend or stub nothing else; the next one starts where the suite started
  eg.setBackend(backend);
  vi.restoreAllMocks();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("markdown extraction", () => {
  it("finds ts blocks, skips other languages, and reads annotations", () => {
    const md = ["# t", "```sh", "npm test", "```", "```ts", 'import * as eg from "engram";', "console.log(1 + 1); // → 2", "```"].join(
      "\n",
    );
    const found = tsExamples("x.md", md);
    expect(found).toHaveLength(1);
    expect(found[0]!.line).toBe(5);
    expect(expectations(found[0]!.code)).toEqual([{ line: 2, expected: "2" }]);
    expect(runnable(found[0]!.code, "/e.ts", "p")).toContain('from "/e.ts"');
    expect(runnable(found[0]!.code, "/e.ts", "p")).toContain("p(2, 1 + 1);");
    expect(sameOutput(printed([[2, 3]]), "[2, 3]")).toBe(true);
    expect(sameOutput(printed([[2, 3]]), "[3, 2]")).toBe(false);
  });

  it("refuses an arrow comment it cannot check", () => {
    expect(() => expectations("console.log(\n  1,\n); // → 1")).toThrow(/must end a one-line console.log/);
  });

  it("finds the examples of every page", () => {
    for (const doc of DOCS) expect(examples.filter((e) => e.doc === doc).length, doc).toBeGreaterThan(0);
  });
});

describe("doc examples run", () => {
  it.each(examples.map((e) => [`${e.doc}:${e.line}`, e] as const))("%s", async (_, example) => {
    const file = fileOf(example);
    writeFileSync(file, runnable(example.code, ENTRY, REPORT));
    const seen = new Map<number, string[]>();
    globals.__engramDocPrint = (line, ...args) => seen.set(line, [...(seen.get(line) ?? []), printed(args)]);
    // unannotated output would only clutter the test log
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      await import(pathToFileURL(file).href);
    } finally {
      delete globals.__engramDocPrint;
    }
    for (const { line, expected } of expectations(example.code)) {
      const got = seen.get(line);
      expect(got, `${example.doc}:${example.line + line}: the annotated console.log never ran`).toBeDefined();
      for (const g of got!)
        expect(sameOutput(g, expected), `${example.doc}:${example.line + line}: printed ${g}, the doc says ${expected}`).toBe(true);
    }
  });
});

describe("doc examples type-check", () => {
  it("compiles every example under the project's strict settings", () => {
    const files = examples.map((e) => {
      const file = fileOf(e).replace(/\.mts$/, ".check.mts");
      writeFileSync(file, e.code);
      return file;
    });
    const config = ts.readConfigFile(join(ROOT, "tsconfig.json"), (p) => ts.sys.readFile(p));
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
    // "engram" resolves to the source entry, as it does for the package's users through dist/
    const program = ts.createProgram(files, { ...parsed.options, noEmit: true, paths: { engram: [ENTRY] } });
    // only the examples' own diagnostics: the source is checked by the project's tsc run
    const diagnostics = [
      ...program.getOptionsDiagnostics(),
      ...files.flatMap((f) => {
        const source = program.getSourceFile(f)!;
        return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
      }),
    ];
    const text = diagnostics.map((d) => {
      const where = d.file ? examples[files.indexOf(d.file.fileName)] : undefined;
      const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
      const at = where ? `${where.doc}:${where.line + pos + 1}` : "?";
      return `${at}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
    expect(text).toEqual([]);
  });
});
