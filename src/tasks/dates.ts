import { ArgumentError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { checkRange, resolveConfig, SEED_BOUNDS } from "./config.js";
import { SequenceTask } from "./sequence-task.js";
import { decodeTokens, encodeTokens, makeVocabulary } from "./vocabulary.js";

export type DatesConfig = { seed: number; minYear: number; maxYear: number; minLength: number; maxLength: number };
/** Length bounds 1..64 admit every format; the formats themselves render 6..29 characters. */
export const DATES_DEFAULTS: Readonly<DatesConfig> = { seed: 0, minYear: 1900, maxYear: 2099, minLength: 1, maxLength: 64 };

const MIN_YEAR = 1000;
const MAX_YEAR = 9999;
const MAX_LENGTH = 64;
/** POSIX strptime's %y window: 69..99 are 1969..1999, 00..68 are 2000..2068. */
const TWO_DIGIT_YEARS = { first: 1969, last: 2068 } as const;
const DAY_MS = 86_400_000;
/** Draws per example before giving up on a length window (each format was admitted because it can fit it). */
const MAX_DRAWS = 10_000;

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
] as const;
/** Index = JavaScript's getUTCDay(), Sunday first. */
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

/**
 * The source formats. Placeholders: {yyyy} year, {yy} two-digit year (POSIX window 1969..2068),
 * {mm} / {dd} zero-padded month / day, {m} / {d} unpadded, {do} day with its ordinal suffix (3rd),
 * {Month} / {Mon} month name / three-letter abbreviation, {Weekday} / {Wkd} likewise. Slashes are
 * always month first (US), dots always day first (European), dashes year first (ISO), so every
 * string reads as at most one date. Formats with letters also appear all upper and all lower case.
 */
export const DATE_FORMATS: readonly string[] = [
  "{yyyy}-{mm}-{dd}",
  "{yyyy}{mm}{dd}",
  "{mm}/{dd}/{yyyy}",
  "{dd}.{mm}.{yyyy}",
  "{d}.{m}.{yy}",
  "{d} {Month} {yyyy}",
  "{Month} {d}, {yyyy}",
  "{Mon} {d} {yyyy}",
  "{d} {Mon} {yyyy}",
  "{Month} {do}, {yyyy}",
  "the {do} of {Month} {yyyy}",
  "{Weekday}, {Month} {d}, {yyyy}",
  "{Wkd} {d} {Mon} {yyyy}",
];

/** A calendar date (proleptic Gregorian), month and day from 1. */
export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${["th", "st", "nd", "rd"][n % 10] ?? "th"}`;
}

function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one.
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function weekday(date: CalendarDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

/** ISO 8601 "YYYY-MM-DD". */
export function isoDate(date: CalendarDate): string {
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/** `date` in `format` (one of DATE_FORMATS), title case: "March 3, 2021". */
export function formatDate(date: CalendarDate, format: string): string {
  const month = MONTHS[date.month - 1]!;
  const day = WEEKDAYS[weekday(date)]!;
  const fields: Readonly<Record<string, string>> = {
    yyyy: pad(date.year, 4),
    yy: pad(date.year % 100, 2),
    mm: pad(date.month, 2),
    m: String(date.month),
    dd: pad(date.day, 2),
    d: String(date.day),
    do: ordinal(date.day),
    Month: month,
    Mon: month.slice(0, 3),
    Weekday: day,
    Wkd: day.slice(0, 3),
  };
  return format.replace(/\{(\w+)\}/g, (_, name: string) => fields[name]!);
}

const alternatives = (names: readonly string[]): string => `(${names.join("|")})`;

/** Regex source for each placeholder (matched case-insensitively; names only match real names). */
const FIELD_PATTERNS: Readonly<Record<string, string>> = {
  yyyy: "(\\d{4})",
  yy: "(\\d{2})",
  mm: "(\\d{2})",
  m: "(\\d{1,2})",
  dd: "(\\d{2})",
  d: "(\\d{1,2})",
  do: "(\\d{1,2})(?:st|nd|rd|th)",
  Month: alternatives(MONTHS),
  Mon: alternatives(MONTHS.map((m) => m.slice(0, 3))),
  Weekday: alternatives(WEEKDAYS),
  Wkd: alternatives(WEEKDAYS.map((w) => w.slice(0, 3))),
};

interface FormatParser {
  format: string;
  regex: RegExp;
  fields: string[];
}

const PARSERS: readonly FormatParser[] = DATE_FORMATS.map((format) => {
  const fields: string[] = [];
  const source = format
    .split(/(\{\w+\})/)
    .map((piece) => {
      const field = /^\{(\w+)\}$/.exec(piece)?.[1];
      if (field === undefined) return piece.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      fields.push(field);
      return FIELD_PATTERNS[field]!;
    })
    .join("");
  return { format, regex: new RegExp(`^${source}$`, "i"), fields };
});

/** The ways a rendering may be cased: as written, all upper, all lower (one entry when they agree). */
function caseVariants(text: string): string[] {
  return [...new Set([text, text.toUpperCase(), text.toLowerCase()])];
}

/** A parsed date, or why the text is not one. */
type ParseResult = { date: CalendarDate } | { error: string };

/** 1-based position of `name` (any case) in `names`, or of its 3-letter abbreviation. */
function nameIndex(names: readonly string[], name: string): number {
  const lower = name.toLowerCase();
  return names.findIndex((n) => n.toLowerCase() === lower || n.slice(0, 3).toLowerCase() === lower) + 1;
}

/** The text read with one format; undefined when the format's pattern does not match at all. */
function parseWith(parser: FormatParser, text: string): ParseResult | undefined {
  const match = parser.regex.exec(text);
  if (match === null) return undefined;
  let year = 0;
  let month = 0;
  let day = 0;
  let weekdayName: string | undefined;
  parser.fields.forEach((field, i) => {
    const value = match[i + 1]!;
    if (field === "yyyy") year = Number(value);
    else if (field === "yy") year = Number(value) + (Number(value) >= TWO_DIGIT_YEARS.first % 100 ? 1900 : 2000);
    else if (field === "mm" || field === "m") month = Number(value);
    else if (field === "Month" || field === "Mon") month = nameIndex(MONTHS, value);
    else if (field === "Weekday" || field === "Wkd") weekdayName = value;
    else day = Number(value);
  });
  if (month < 1 || month > 12) return { error: `has month ${month}; months run from 1 to 12` };
  if (year < MIN_YEAR) return { error: `has year ${year}; years run from ${MIN_YEAR} to ${MAX_YEAR}` };
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) return { error: `is not a date: ${MONTHS[month - 1]} ${year} has ${days} days` };
  const date = { year, month, day };
  if (weekdayName !== undefined && nameIndex(WEEKDAYS, weekdayName) !== weekday(date) + 1) {
    return { error: `says ${weekdayName}, but ${isoDate(date)} is a ${WEEKDAYS[weekday(date)]}` };
  }
  const expected = formatDate(date, parser.format);
  if (caseVariants(expected).includes(text)) return { date };
  return { error: `is not written the way its format writes it (expected ${JSON.stringify(expected)}, or all upper or all lower case)` };
}

/** Reads a date in any supported format; when none reads it, the first matching format says why. */
function parse(text: string): ParseResult {
  let failure: ParseResult | undefined;
  for (const parser of PARSERS) {
    const result = parseWith(parser, text);
    if (result !== undefined && "date" in result) return result;
    failure ??= result;
  }
  const examples = DATE_FORMATS.map((f) => JSON.stringify(formatDate({ year: 2021, month: 3, day: 3 }, f)));
  return failure ?? { error: `is not a date in a supported format (formats: ${examples.join(", ")})` };
}

/** Every character any format writes, in any case, in code order. */
function dateSymbols(): string {
  const text = [...DATE_FORMATS.map((f) => f.replace(/\{\w+\}/g, "")), ...MONTHS, ...WEEKDAYS, "0123456789", "stndrdth"].join("");
  return [...new Set(caseVariants(text).join(""))].sort().join("");
}

/** One format as this config may use it: the years it can show and the lengths it renders. */
interface FormatPlan {
  format: string;
  /** First and last day (days since 1970-01-01) this format may draw. */
  firstDay: number;
  lastDay: number;
  variants: number;
}

/**
 * The lengths each format renders, from every day of one leap year: any whole year holds every
 * (month, weekday, day width) combination, and casing keeps lengths, so these are all of them.
 */
const FORMAT_LENGTHS: ReadonlyMap<string, readonly number[]> = new Map(
  DATE_FORMATS.map((format) => {
    const lengths = new Set<number>();
    for (let month = 1; month <= 12; month++) {
      for (let day = 1; day <= daysInMonth(2000, month); day++) lengths.add(formatDate({ year: 2000, month, day }, format).length);
    }
    return [format, [...lengths]];
  }),
);

/**
 * dates: read a date written by a person in one of 13 formats, write it as ISO 8601 (character-level
 * seq2seq with BOS/EOS). Example: input "Wednesday, March 3, 2021" -> target "2021-03-03" then EOS.
 *
 * Formats (see DATE_FORMATS): 2021-03-03, 20210303, 03/03/2021 (slashes are US month/day/year),
 * 03.03.2021 and 3.3.21 (dots are European day.month.year; two-digit years follow POSIX: 69..99 are
 * 19xx, 00..68 are 20xx), 3 March 2021, March 3, 2021, Mar 3 2021, 3 Mar 2021, March 3rd, 2021, the
 * 3rd of March 2021, Wednesday, March 3, 2021, Wed 3 Mar 2021; formats with letters also all upper
 * and all lower case. Weekdays are the real ones (proleptic Gregorian calendar, leap years included).
 *
 * Config (defaults): seed 0, minYear 1900, maxYear 2099 (dates uniform over those whole years; the
 * two-digit-year format only shows its 1969..2068 window), minLength 1, maxLength 64. Lengths count
 * source characters: a format is used when some date renders within minLength..maxLength, and
 * examples are redrawn until they fit. So withLengths(L, L) gives exactly L-character sources, and
 * a range no format reaches (e.g. 30..40) is an error. An example draws a usable format uniformly,
 * then a casing, then a date. Splits are disjoint in source text (the same date may appear in
 * training in another format).
 *
 * Vocabulary: PAD, BOS, EOS, then every character the formats write (digits, punctuation, space,
 * and the letters of month and weekday names in both cases).
 */
export class DatesTask extends SequenceTask<DatesConfig> {
  static readonly description = 'normalise a human-written date to ISO, "March 3, 2021" -> "2021-03-03" (13 formats, minYear..maxYear)';
  private readonly plans: readonly FormatPlan[];

  constructor(config: Readonly<Record<string, unknown>> = {}) {
    const c = resolveConfig(
      "dates",
      config,
      { ...DATES_DEFAULTS },
      {
        seed: SEED_BOUNDS,
        minYear: [MIN_YEAR, MAX_YEAR],
        maxYear: [MIN_YEAR, MAX_YEAR],
        minLength: [1, MAX_LENGTH],
        maxLength: [1, MAX_LENGTH],
      },
    );
    checkRange("dates", "minYear", c.minYear, "maxYear", c.maxYear);
    checkRange("dates", "minLength", c.minLength, "maxLength", c.maxLength);
    super("dates", DatesTask.description, c, makeVocabulary(dateSymbols()));
    this.plans = this.planFormats();
  }

  private planFormats(): FormatPlan[] {
    const { minYear, maxYear, minLength, maxLength } = this.config;
    const plans: FormatPlan[] = [];
    let shortest = Infinity;
    let longest = 0;
    for (const format of DATE_FORMATS) {
      const twoDigit = format.includes("{yy}");
      const first = twoDigit ? Math.max(minYear, TWO_DIGIT_YEARS.first) : minYear;
      const last = twoDigit ? Math.min(maxYear, TWO_DIGIT_YEARS.last) : maxYear;
      if (first > last) continue;
      const lengths = FORMAT_LENGTHS.get(format)!;
      shortest = Math.min(shortest, ...lengths);
      longest = Math.max(longest, ...lengths);
      if (!lengths.some((n) => n >= minLength && n <= maxLength)) continue;
      plans.push({
        format,
        firstDay: Date.UTC(first, 0, 1) / DAY_MS,
        lastDay: Date.UTC(last, 11, 31) / DAY_MS,
        variants: caseVariants(formatDate({ year: 2021, month: 3, day: 3 }, format)).length,
      });
    }
    if (plans.length === 0) {
      throw new ArgumentError(
        `dates: no format renders a date in ${minLength}..${maxLength} characters (for years ${minYear}..${maxYear} the formats render ${shortest}..${longest})`,
      );
    }
    return plans;
  }

  protected sampleSource(rng: Generator): number[] {
    const plan = this.plans[rng.randint(0, this.plans.length)]!;
    const variant = rng.randint(0, plan.variants);
    const { minLength, maxLength } = this.config;
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      const when = new Date(rng.randint(plan.firstDay, plan.lastDay + 1) * DAY_MS);
      const date = { year: when.getUTCFullYear(), month: when.getUTCMonth() + 1, day: when.getUTCDate() };
      const text = caseVariants(formatDate(date, plan.format))[variant]!;
      if (text.length >= minLength && text.length <= maxLength) return encodeTokens(this.vocabulary, text);
    }
    throw new ArgumentError(
      `dates: no date of format "${plan.format}" fitting ${minLength}..${maxLength} characters in ${MAX_DRAWS} draws`,
    );
  }

  protected answer(source: readonly number[]): number[] {
    const result = parse(decodeTokens(this.vocabulary, source));
    // Sources come from sampleSource or parseSource, both of which only admit dates that parse.
    if ("error" in result) throw new ArgumentError(`dates: cannot read its own source (${result.error})`);
    return encodeTokens(this.vocabulary, isoDate(result.date));
  }

  /** Any supported format and casing; invalid dates and wrong weekdays are rejected. */
  protected override parseSource(text: string): number[] {
    const result = parse(text);
    if ("error" in result) throw this.textError(text, result.error);
    return encodeTokens(this.vocabulary, text);
  }

  withLengths(min: number, max: number): DatesTask {
    return new DatesTask({ ...this.config, minLength: min, maxLength: max });
  }
}
