/**
 * Reads the TypeScript examples out of the Markdown docs so the docs test can run and type-check
 * them. A fenced block tagged ts (or typescript) is an example; sh, python and untagged blocks are
 * not run. Inside an example, `console.log(...); // → text` states what the call prints: the test
 * compares the printed value (strings as they are, anything else as JSON) with `text`, ignoring
 * whitespace.
 */

export interface DocExample {
  /** The Markdown file, relative to the repository root. */
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
}

/** An expected-output annotation: the example's line (1-based within the block) and the text after the arrow. */
export interface Expectation {
  line: number;
  expected: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
const EXPECT = /^(.*?)console\.log\((.*)\);\s*\/\/\s*→\s*(.*)$/;

/** Every ts/typescript fenced block of `markdown`, in order. */
export function tsExamples(doc: string, markdown: string): DocExample[] {
  const lines = markdown.split("\n");
  const out: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    // a closing fence is at least as long as the opening one, of the same character
    while (j < lines.length && !new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`).test(lines[j]!)) {
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
      j++;
    }
    if (lang === "ts" || lang === "typescript") out.push({ doc, line: i + 1, code: body.join("\n") + "\n" });
    i = j;
  }
  return out;
}

/**
 * The `// → text` annotations of an example. An arrow comment on any other line (say, a
 * console.log that a formatter wrapped) is an error rather than a silently unchecked claim.
 */
export function expectations(code: string): Expectation[] {
  const out: Expectation[] = [];
  code.split("\n").forEach((l, i) => {
    const m = EXPECT.exec(l);
    if (m) out.push({ line: i + 1, expected: m[3]!.trim() });
    else if (/\/\/\s*→/.test(l)) throw new Error(`line ${i + 1}: "// →" must end a one-line console.log(...); statement: ${l.trim()}`);
  });
  return out;
}

/**
 * The example as a module that runs from anywhere: `"engram"` imports point at `entry` (the src
 * entry point), and each annotated `console.log(` becomes `report(line, ` so the test sees which
 * line printed what.
 */
export function runnable(code: string, entry: string, report: string): string {
  return code
    .split("\n")
    .map((l, i) => {
      const withEntry = l.replace(/from\s+["']engram["']/g, `from ${JSON.stringify(entry)}`);
      const m = EXPECT.exec(withEntry);
      return m ? `${m[1]}${report}(${i + 1}, ${m[2]});` : withEntry;
    })
    .join("\n");
}

/** What console.log would show for `args`, in the form annotations are written in. */
export function printed(args: readonly unknown[]): string {
  return args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ");
}

/** Annotations and output compare without whitespace, so `[2, 3]` matches `[2,3]`. */
export function sameOutput(actual: string, expected: string): boolean {
  return actual.replace(/\s+/g, "") === expected.replace(/\s+/g, "");
}
