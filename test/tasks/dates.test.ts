// dates: every source is a real rendering of its ISO target, checked against Intl's calendar and names.
import { describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/core/errors.js";
import { DATE_FORMATS, DatesTask, decodeTokens, type Split } from "../../src/tasks/index.js";
import { decodeBatch, plain } from "./helpers.js";

const SPLITS: readonly Split[] = ["train", "validation", "test"];
const ordinals = new Intl.PluralRules("en-US", { type: "ordinal" });
const SUFFIX: Record<string, string> = { one: "st", two: "nd", few: "rd", other: "th" };
const NAMES = {
  Month: new Intl.DateTimeFormat("en-US", { timeZone: "UTC", month: "long" }),
  Mon: new Intl.DateTimeFormat("en-US", { timeZone: "UTC", month: "short" }),
  Weekday: new Intl.DateTimeFormat("en-US", { timeZone: "UTC", weekday: "long" }),
  Wkd: new Intl.DateTimeFormat("en-US", { timeZone: "UTC", weekday: "short" }),
};

/** `iso` in `format`, written independently of dates.ts: names from Intl, weekday from Date. */
function render(iso: string, format: string): string {
  const [y, m, d] = iso.split("-").map(Number) as [number, number, number];
  const when = new Date(Date.UTC(y, m - 1, d));
  const fields: Record<string, string> = {
    yyyy: String(y),
    yy: String(y).slice(2),
    mm: String(m).padStart(2, "0"),
    m: String(m),
    dd: String(d).padStart(2, "0"),
    d: String(d),
    do: `${d}${SUFFIX[ordinals.select(d)]}`,
    Month: NAMES.Month.format(when),
    Mon: NAMES.Mon.format(when),
    Weekday: NAMES.Weekday.format(when),
    Wkd: NAMES.Wkd.format(when),
  };
  return format.replace(/\{(\w+)\}/g, (_, f: string) => fields[f]!);
}

/** The format and casing that write `source` for `iso`, or undefined when none does. */
function identify(source: string, iso: string): { format: string; casing: string } | undefined {
  for (const format of DATE_FORMATS) {
    const text = render(iso, format);
    if (source === text) return { format, casing: "as written" };
    if (source === text.toUpperCase()) return { format, casing: "upper" };
    if (source === text.toLowerCase()) return { format, casing: "lower" };
  }
  return undefined;
}

/** A real calendar day: Date does not roll it over into the next month. */
function isRealDate(iso: string): boolean {
  const [y, m, d] = iso.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
}

function target(task: DatesTask, text: string): string {
  return decodeTokens(task.vocabulary, task.fromText(text).target.data);
}

describe("dates", () => {
  it("writes each source as a real date's rendering in one of the formats, all formats and casings occurring", () => {
    const task = new DatesTask({ seed: 3 });
    const formats = new Set<string>();
    const casings = new Set<string>();
    for (const split of SPLITS) {
      for (const { source, target: iso } of decodeBatch(task, task.batch(split, 150, 0))) {
        expect(iso).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(isRealDate(iso)).toBe(true);
        const year = Number(iso.slice(0, 4));
        expect(year).toBeGreaterThanOrEqual(1900);
        expect(year).toBeLessThanOrEqual(2099);
        const found = identify(source, iso);
        expect(found, `${source} -> ${iso}`).toBeDefined();
        formats.add(found!.format);
        casings.add(found!.casing);
        if (found!.format.includes("{yy}")) expect(year >= 1969 && year <= 2068).toBe(true);
      }
    }
    expect([...formats].sort()).toEqual([...DATE_FORMATS].sort());
    expect([...casings].sort()).toEqual(["as written", "lower", "upper"]);
  });

  it("reads every format and casing back to the same ISO date (fromText)", () => {
    const task = new DatesTask();
    for (const iso of ["2021-03-03", "2000-02-29", "1999-12-31", "2012-11-22", "1971-05-01", "2068-08-13"]) {
      for (const format of DATE_FORMATS) {
        const text = render(iso, format);
        for (const variant of [text, text.toUpperCase(), text.toLowerCase()]) expect(target(task, variant), variant).toBe(iso);
      }
    }
  });

  it("follows the stated conventions: slashes month first, dots day first, two-digit years 1969..2068", () => {
    const task = new DatesTask();
    expect(target(task, "03/04/2021")).toBe("2021-03-04");
    expect(target(task, "04.03.2021")).toBe("2021-03-04");
    expect(target(task, "4.3.21")).toBe("2021-03-04");
    expect(target(task, "1.1.69")).toBe("1969-01-01");
    expect(target(task, "31.12.68")).toBe("2068-12-31");
    expect(target(task, "Thursday, July 4, 1776")).toBe("1776-07-04");
    expect(target(task, "Sat 1 Jan 2000")).toBe("2000-01-01");
    expect(target(task, "the 22nd of SEPTEMBER 2021".toLowerCase())).toBe("2021-09-22");
    expect(target(task, "May 11th, 2011")).toBe("2011-05-11");
  });

  it("rejects text that is not a supported date, naming the task and showing the text", () => {
    const task = new DatesTask();
    const cases: [string, string][] = [
      ["29 February 1900", 'dates.fromText: "29 February 1900" is not a date: February 1900 has 28 days'],
      ["02/29/2023", 'dates.fromText: "02/29/2023" is not a date: February 2023 has 28 days'],
      ["Tuesday, March 3, 2021", 'dates.fromText: "Tuesday, March 3, 2021" says Tuesday, but 2021-03-03 is a Wednesday'],
      ["13/01/2021", 'dates.fromText: "13/01/2021" has month 13; months run from 1 to 12'],
      ["March 03, 2021", 'dates.fromText: "March 03, 2021" is not written the way its format writes it (expected "March 3, 2021"'],
      ["mArch 3, 2021", 'dates.fromText: "mArch 3, 2021" is not written the way its format writes it'],
      ["March 3th, 2021", 'dates.fromText: "March 3th, 2021" is not written the way its format writes it (expected "March 3rd, 2021"'],
      ["0999-01-01", 'dates.fromText: "0999-01-01" has year 999; years run from 1000 to 9999'],
      ["3 Marhc 2021", 'dates.fromText: "3 Marhc 2021" is not a date in a supported format (formats: "2021-03-03", "20210303",'],
      ["2021/03/03", 'dates.fromText: "2021/03/03" is not a date in a supported format'],
      [" 2021-03-03", 'dates.fromText: " 2021-03-03" is not a date in a supported format'],
      ["", 'dates.fromText: "" is not a date in a supported format'],
    ];
    for (const [text, message] of cases) {
      expect(() => task.fromText(text)).toThrow(ArgumentError);
      expect(() => task.fromText(text)).toThrow(message);
    }
  });

  it("withLengths keeps sources of exactly the asked length, and rejects lengths no format writes", () => {
    const task = new DatesTask({ seed: 1 });
    for (const length of [6, 8, 15, 29]) {
      const sources = decodeBatch(task, task.withLengths(length, length).batch("train", 24, 0)).map((r) => r.source);
      for (const source of sources) expect(source).toHaveLength(length);
    }
    const mid = task.withLengths(10, 12);
    for (const { source } of decodeBatch(mid, mid.batch("test", 40, 0))) expect(source.length >= 10 && source.length <= 12).toBe(true);
    expect(() => task.withLengths(30, 40)).toThrow(
      "dates: no format renders a date in 30..40 characters (for years 1900..2099 the formats render 6..29)",
    );
    expect(() => task.withLengths(9, 9)).toThrow(/^dates: no format renders a date in 9\.\.9 characters/);
    expect(() => task.withLengths(5, 3)).toThrow(/^dates: minLength \(5\) must not exceed maxLength \(3\)$/);
  });

  it("keeps to minYear..maxYear, dropping the two-digit-year format outside its window", () => {
    const task = new DatesTask({ seed: 2, minYear: 1500, maxYear: 1501 });
    for (const { source, target: iso } of decodeBatch(task, task.batch("train", 100, 0))) {
      expect(["1500", "1501"]).toContain(iso.slice(0, 4));
      expect(identify(source, iso)!.format).not.toBe("{d}.{m}.{yy}");
    }
    // Only "3.3.21" (6..8 characters) and "20210303" (8) are this short.
    expect(() => task.withLengths(6, 7)).toThrow(/^dates: no format renders a date in 6\.\.7 characters/);
    expect(() => new DatesTask({ minYear: 2000, maxYear: 1999 })).toThrow(/^dates: minYear \(2000\) must not exceed maxYear \(1999\)$/);
  });

  it("is deterministic and keeps splits disjoint on a small example space", () => {
    const task = new DatesTask({ seed: 4, minYear: 2000, maxYear: 2000, minLength: 6, maxLength: 8 });
    expect(plain(new DatesTask(task.config).batch("validation", 8, 2))).toEqual(plain(task.batch("validation", 8, 2)));
    const seen = SPLITS.map((split) => new Set(decodeBatch(task, task.batch(split, 200, 0)).map((r) => r.source)));
    // 366 "d.m.yy" strings plus 366 "yyyymmdd" ones, 200 draws per split.
    expect(seen[0]!.size).toBeGreaterThan(100);
    for (const source of seen[2]!) expect(seen[0]!.has(source) || seen[1]!.has(source)).toBe(false);
    for (const source of seen[1]!) expect(seen[0]!.has(source)).toBe(false);
  });

  it("has the specials then exactly the characters the formats write", () => {
    const task = new DatesTask();
    expect(task.vocabulary.slice(0, 3)).toEqual(["<pad>", "<bos>", "<eos>"]);
    const symbols = task.vocabulary.slice(3);
    expect(new Set(symbols).size).toBe(symbols.length);
    const written = new Set<string>();
    // The first week of every month has every weekday and every ordinal suffix.
    for (let month = 1; month <= 12; month++) {
      for (let day = 1; day <= 7; day++) {
        for (const format of DATE_FORMATS) {
          const text = render(`2021-${String(month).padStart(2, "0")}-0${day}`, format);
          for (const ch of text + text.toUpperCase() + text.toLowerCase()) written.add(ch);
        }
      }
    }
    expect([...symbols].sort()).toEqual([...written].sort());
  });
});
