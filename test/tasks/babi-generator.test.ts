// The bAbI generator: deterministic, well-formed, laid out as bAbI's public generator
// (facebookarchive/bAbI-tasks) lays out each task type, and every answer and supporting fact
// re-derived by an independent reader of the story text (regexes over the sentences, not the
// generator's state).
import { describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/core/errors.js";
import { BABI_TASK_IDS, generateBabi } from "../../src/tasks/babi/generator.js";
import { formatBabi, parseBabi, type BabiLine, type BabiStory } from "../../src/tasks/babi/reader.js";

const MOVE = "(?:went to|moved to|journeyed to|travelled to|went back to)";
const THEN = "(?:Then|After that|Following that|Afterwards)";
const TIMES = ["yesterday", "this morning", "this afternoon", "this evening"];
const NUMBERS = ["none", "one", "two", "three"];
const OPPOSITE: Record<string, string> = { north: "south", south: "north", east: "west", west: "east" };
const ACTORS = ["Daniel", "John", "Mary", "Sandra"];
const FEMALE = new Set(["Mary", "Sandra"]);
const CAST: Record<number, string[]> = {
  15: ["Emily", "Gertrude", "Jessica", "Winona"],
  16: ["Bernhard", "Brian", "Greg", "Julius", "Lily"],
};
/** Capitalised words that are not names. */
const NOT_NAMES = new Set([
  "Then",
  "After",
  "Following",
  "Afterwards",
  "Yesterday",
  "This",
  "The",
  "Mice",
  "Sheep",
  "Wolves",
  "Cats",
  "Where",
  "What",
  "Is",
  "How",
]);

/** What the text says of an actor's place, and the facts that say it. */
type Belief = { kind: "at" | "not" | "either"; places: string[]; support: number[] };
type Told = { place: string; support: number[] };

/** What the reader concluded for one question: the answer and exactly the facts that support it. */
interface Derived {
  answer: string;
  support: number[];
}

const sorted = (ids: readonly number[]): number[] => [...new Set(ids)].sort((a, b) => a - b);

/** Reads one story line by line, checks that every action was possible, and answers each question from the text alone. */
function readStory(story: BabiStory): Derived[] {
  const belief = new Map<string, Belief>();
  /** object -> its holder and the sentence that gave it to them */
  const holder = new Map<string, { actor: string; id: number }>();
  /** object -> where it was dropped, when the text tells the dropper's place */
  const dropped = new Map<string, Told | null>();
  /** object -> the places the text has put it in (consecutive ones different) */
  const history = new Map<string, Told[]>();
  /** actor -> their pick-ups, drops and gives, and the gives they received */
  const handled = new Map<string, number[]>();
  const handlers = new Set<string>();
  let last: { who: string[]; id: number } = { who: [], id: 0 };
  const timed = new Map<string, { time: number; place: string; fact: number }[]>();
  const relations: { a: string; d: string; b: string; fact: number }[] = [];
  const fears = new Map<string, { species: string; fact: number }>();
  const kind = new Map<string, { species: string; fact: number }>();
  const colour = new Map<string, { colour: string; fact: number }>();
  const out: Derived[] = [];

  const at = (actor: string): Told | null => {
    const b = belief.get(actor);
    return b?.kind === "at" ? { place: b.places[0]!, support: b.support } : null;
  };
  const objectPlace = (object: string): Told | null => {
    const h = holder.get(object);
    if (h === undefined) return dropped.get(object) ?? null;
    const where = at(h.actor);
    return where === null ? null : { place: where.place, support: [h.id, ...where.support] };
  };
  const handle = (actor: string, id: number): void => void handled.set(actor, [...(handled.get(actor) ?? []), id]);
  // a move of one named actor goes somewhere else than where the text last put them (bAbI's rule); pairs are not sampled
  const move = (who: string[], place: string, support: number[], checked: boolean): void => {
    for (const a of who) {
      if (checked && at(a)?.place === place) throw new Error(`${a} moves to the ${place}, where they already are`);
      belief.set(a, { kind: "at", places: [place], support });
    }
  };

  for (const line of story.lines) {
    const t = line.text;
    let m: RegExpExecArray | null;
    if (line.kind === "statement") {
      const id = line.id;
      let subjects: string[] | null = null;
      if ((m = new RegExp(`^(\\w+) and (\\w+) ${MOVE} the (\\w+)\\.$`).exec(t))) {
        move([m[1]!, m[2]!], m[3]!, [id], false);
        subjects = [m[1]!, m[2]!];
      } else if ((m = new RegExp(`^${THEN} (he|she|they) ${MOVE} the (\\w+)\\.$`).exec(t))) {
        const expected = last.who.length === 2 ? "they" : last.who.length === 1 ? (FEMALE.has(last.who[0]!) ? "she" : "he") : "?";
        if (m[1] !== expected) throw new Error(`"${m[1]!}" does not fit ${last.who.join(" and ")}`);
        // the referent is resolved by the sentence that named it
        move(last.who, m[2]!, [last.id, id], last.who.length === 1);
      } else if (
        (m = new RegExp(`^(?:(${TIMES.join("|")}) )?(\\w+) ${MOVE} the (\\w+)(?: (${TIMES.join("|")}))?\\.$`, "i").exec(t)) &&
        (m[1] ?? m[4])
      ) {
        if (m[1] !== undefined && m[4] !== undefined) throw new Error(`two times in "${t}"`);
        const list = timed.get(m[2]!) ?? [];
        const time = TIMES.indexOf((m[1] ?? m[4])!.toLowerCase());
        if (list.some((f) => f.time === time || f.place === m![3])) throw new Error(`${m[2]!} repeats a time or a place: "${t}"`);
        list.push({ time, place: m[3]!, fact: id });
        timed.set(m[2]!, list);
      } else if ((m = new RegExp(`^(\\w+) ${MOVE} the (\\w+)\\.$`).exec(t))) {
        move([m[1]!], m[2]!, [id], true);
        subjects = [m[1]!];
      } else if ((m = /^(\w+) is in the (\w+)\.$/.exec(t))) {
        // states where the actor is: it cannot contradict a place the text has fixed
        const known = at(m[1]!);
        if (known !== null && known.place !== m[2]) throw new Error(`"${t}" contradicts ${known.place}`);
        belief.set(m[1]!, { kind: "at", places: [m[2]!], support: [id] });
        subjects = [m[1]!];
      } else if ((m = /^(\w+) is (?:not|no longer) in the (\w+)\.$/.exec(t))) {
        if (at(m[1]!)?.place === m[2]) throw new Error(`"${t}" contradicts the text`);
        belief.set(m[1]!, { kind: "not", places: [m[2]!], support: [id] });
      } else if ((m = /^(\w+) is either in the (\w+) or the (\w+)\.$/.exec(t))) {
        if (m[2] === m[3]) throw new Error(`"${t}" names one place twice`);
        belief.set(m[1]!, { kind: "either", places: [m[2]!, m[3]!], support: [id] });
      } else if ((m = /^(\w+) (?:picked up|got|grabbed|took) the (\w+) there\.$/.exec(t))) {
        const [, who, object] = m as unknown as [string, string, string];
        if (holder.has(object)) throw new Error(`${object} is already held`);
        const here = at(who);
        const lying = dropped.get(object);
        if (here !== null && lying && lying.place !== here.place) throw new Error(`${who} picks up the ${object} from elsewhere`);
        holder.set(object, { actor: who, id });
        dropped.delete(object);
        handle(who, id);
        handlers.add(who);
      } else if ((m = /^(\w+) (?:dropped|put down|discarded|left) the (\w+)\.$/.exec(t))) {
        const [, who, object] = m as unknown as [string, string, string];
        if (holder.get(object)?.actor !== who) throw new Error(`${who} drops the ${object} without holding it`);
        holder.delete(object);
        const here = at(who);
        dropped.set(object, here === null ? null : { place: here.place, support: [...here.support, id] });
        handle(who, id);
        handlers.add(who);
      } else if ((m = /^(\w+) (?:gave|passed|handed) the (\w+) to (\w+)\.$/.exec(t))) {
        const [, who, object, to] = m as unknown as [string, string, string, string];
        if (holder.get(object)?.actor !== who || to === who) throw new Error(`"${t}": ${who} does not hold the ${object}`);
        const [p, q] = [at(who), at(to)];
        if (p !== null && q !== null && p.place !== q.place) throw new Error(`"${t}": ${who} and ${to} are apart`);
        holder.set(object, { actor: to, id });
        handle(who, id);
        handle(to, id);
        handlers.add(who);
      } else if ((m = /^The (\w+) is (\w+) of the (\w+)\.$/.exec(t))) {
        relations.push({ a: m[1]!, d: m[2]!, b: m[3]!, fact: id }, { a: m[3]!, d: OPPOSITE[m[2]!]!, b: m[1]!, fact: id });
      } else if ((m = /^(\w+) are afraid of (\w+)\.$/.exec(t))) {
        const singular = (plural: string): string =>
          ({ mice: "mouse", sheep: "sheep", wolves: "wolf", cats: "cat" })[plural.toLowerCase()] ?? `?${plural}`;
        fears.set(singular(m[1]!), { species: singular(m[2]!), fact: id });
      } else if ((m = /^(\w+) is a (\w+)\.$/.exec(t))) kind.set(m[1]!, { species: m[2]!, fact: id });
      else if ((m = /^(\w+) is (white|gray|yellow|green)\.$/.exec(t))) colour.set(m[1]!, { colour: m[2]!, fact: id });
      else throw new Error(`unreadable statement "${t}"`);
      if (subjects !== null) last = { who: subjects, id };
      for (const object of ["apple", "football", "milk"]) {
        const now = objectPlace(object);
        const h = history.get(object) ?? [];
        if (now !== null && h[h.length - 1]?.place !== now.place) h.push(now);
        history.set(object, h);
      }
      continue;
    }
    if ((m = /^Where is the (\w+)\?$/.exec(t))) {
      const told = objectPlace(m[1]!);
      if (told === null) throw new Error(`"${t}": the text does not tell`);
      out.push({ answer: told.place, support: told.support });
    } else if ((m = /^Where is (\w+)\?$/.exec(t))) {
      const told = at(m[1]!);
      if (told === null) throw new Error(`"${t}": the text does not tell`);
      out.push({ answer: told.place, support: told.support });
    } else if ((m = /^Where was the (\w+) before the (\w+)\?$/.exec(t))) {
      const h = history.get(m[1]!)!;
      if (h.length < 2 || h[h.length - 1]!.place !== m[2]) throw new Error(`"${t}" does not name where the ${m[1]!} is`);
      const [was, now] = h.slice(-2) as [Told, Told];
      out.push({ answer: was.place, support: [...was.support, ...now.support] });
    } else if ((m = /^Where was (\w+) before the (\w+)\?$/.exec(t))) {
      const day = [...timed.get(m[1]!)!].sort((a, b) => a.time - b.time);
      const i = day.findIndex((f) => f.place === m![2]);
      if (i < 1) throw new Error(`"${t}" has no earlier told place`);
      out.push({ answer: day[i - 1]!.place, support: [day[i - 1]!.fact, day[i]!.fact] });
    } else if ((m = /^Is (\w+) in the (\w+)\?$/.exec(t))) {
      const b = belief.get(m[1]!)!;
      const asked = m[2]!;
      let answer: string;
      if (b.kind === "at") answer = b.places[0] === asked ? "yes" : "no";
      else if (b.kind === "either") answer = b.places.includes(asked) ? "maybe" : "no";
      else if (b.places[0] === asked) answer = "no";
      else throw new Error(`"${t}" cannot be answered after "not in the ${b.places[0]!}"`);
      out.push({ answer, support: b.support });
    } else if ((m = /^(?:How many objects|What) is (\w+) carrying\?$/.exec(t))) {
      const who = m[1]!;
      if (!handlers.has(who)) throw new Error(`"${t}": ${who} has not handled anything`);
      const held = [...holder].filter(([, h]) => h.actor === who).map(([o]) => o);
      const answer = t.startsWith("How") ? NUMBERS[held.length]! : held.length === 0 ? "nothing" : held.sort().join(",");
      out.push({ answer, support: handled.get(who)! });
    } else if ((m = /^What is (north|south|east|west) of the (\w+)\?$/.exec(t))) {
      const hits = relations.filter((r) => r.d === m![1] && r.b === m![2]);
      expect(hits).toHaveLength(1);
      out.push({ answer: hits[0]!.a, support: [hits[0]!.fact] });
    } else if ((m = /^What is the (\w+) (north|south|east|west) of\?$/.exec(t))) {
      const hits = relations.filter((r) => r.a === m![1] && r.d === m![2]);
      expect(hits).toHaveLength(1);
      out.push({ answer: hits[0]!.b, support: [hits[0]!.fact] });
    } else if ((m = /^What is (\w+) afraid of\?$/.exec(t))) {
      const k = kind.get(m[1]!)!;
      const f = fears.get(k.species)!;
      out.push({ answer: f.species, support: [k.fact, f.fact] });
    } else if ((m = /^What color is (\w+)\?$/.exec(t))) {
      const k = kind.get(m[1]!)!;
      const others = [...kind].filter(([n, s]) => n !== m![1] && s.species === k.species);
      expect(others.length).toBeGreaterThan(0);
      // induction is sound only if every other member of the species has a told colour and they agree
      const colours = others.map(([n]) => colour.get(n)!);
      expect(new Set(colours.map((c) => c.colour)).size).toBe(1);
      out.push({ answer: colours[0]!.colour, support: [k.fact, ...others.flatMap(([n, s]) => [s.fact, colour.get(n)!.fact])] });
    } else throw new Error(`unreadable question "${t}"`);
  }
  return out.map((d) => ({ answer: d.answer, support: sorted(d.support) }));
}

/** The story's line kinds, e.g. "SSQSSQ". */
const layout = (story: BabiStory): string => story.lines.map((l) => (l.kind === "question" ? "Q" : "S")).join("");
const questionsOf = (story: BabiStory): Extract<BabiLine, { kind: "question" }>[] =>
  story.lines.filter((l): l is Extract<BabiLine, { kind: "question" }> => l.kind === "question");
const statementText = (story: BabiStory, id: number): string => story.lines[id - 1]!.text;

/** Each task type's layout as bAbI's generator builds it. */
const LAYOUT: Record<number, RegExp> = {
  1: /^(SSQ){5}$/,
  2: /^(SSS+Q){5}$/,
  3: /^(SSS+Q){5}$/,
  4: /^SSQ$/,
  6: /^(SSQ){5}$/,
  7: /^SS+Q(SSQ){4}$/,
  8: /^SS+Q(SSQ){4}$/,
  9: /^(SSQ){5}$/,
  10: /^(SSQ){5}$/,
  11: /^(SSQ){5}$/,
  12: /^(SSQ){5}$/,
  13: /^(SSQ){5}$/,
  14: /^SSSSQ(SSQ){4}$/,
  15: /^S{8}Q{4}$/,
  16: /^S{9}Q$/,
};

describe("bAbI generator", () => {
  it("implements at least 10 of the 20 task types", () => {
    expect(BABI_TASK_IDS.length).toBeGreaterThanOrEqual(10);
    expect(() => generateBabi(5, { seed: 0, questions: 10 })).toThrow(ArgumentError);
    expect(() => generateBabi(5, { seed: 0, questions: 10 })).toThrow(
      /^generateBabi: bAbI task 5 is not generated; implemented task types are 1, 2, 3/,
    );
    expect(() => generateBabi(1, { seed: 0, questions: 0 })).toThrow(/questions must be a positive integer/);
  });

  it("has a checker that reads the text: editing the supporting statement changes its answer", () => {
    const story = generateBabi(1, { seed: 4, questions: 5 })[0]!;
    const q = questionsOf(story)[0]!;
    expect(readStory(story)[0]!.answer).toBe(q.answer);
    const other = q.answer === "garden" ? "office" : "garden";
    const edited = story.lines.map((l) => (l.id === q.supporting[0] ? { ...l, text: l.text.replace(q.answer, other) } : l));
    expect(readStory({ lines: edited })[0]!.answer).toBe(other);
    // a statement the reader cannot parse is an error, not a silent skip
    expect(() => readStory({ lines: [{ kind: "statement", id: 1, text: "Mary flew to the moon." }] })).toThrow(/unreadable statement/);
    // and it rejects impossible actions
    const impossible = ["Mary went to the garden.", "Mary got the milk there.", "John dropped the milk."];
    expect(() => readStory({ lines: impossible.map((text, i) => ({ kind: "statement", id: i + 1, text })) })).toThrow(/without holding/);
  });

  for (const taskId of BABI_TASK_IDS) {
    describe(`task ${taskId}`, () => {
      const stories = generateBabi(taskId, { seed: 11, questions: 300 });

      it("is a pure function of the seed and stream", () => {
        expect(formatBabi(generateBabi(taskId, { seed: 11, questions: 300 }))).toBe(formatBabi(stories));
        expect(formatBabi(generateBabi(taskId, { seed: 12, questions: 300 }))).not.toBe(formatBabi(stories));
        expect(formatBabi(generateBabi(taskId, { seed: 11, questions: 300, stream: 1 }))).not.toBe(formatBabi(stories));
      });

      it("writes exactly the requested questions as valid bAbI text", () => {
        const questions = stories.flatMap(questionsOf);
        expect(questions).toHaveLength(300);
        // the reader validates ids, tab fields and that supporting ids name earlier statements
        expect(parseBabi(formatBabi(stories), `task${taskId}.txt`)).toEqual(stories);
        for (const q of questions) expect(q.supporting.length).toBeGreaterThan(0);
        const cut = generateBabi(taskId, { seed: 11, questions: 7 });
        const last = cut[cut.length - 1]!.lines;
        expect(last[last.length - 1]!.kind).toBe("question");
      });

      it("lays stories out as bAbI does, with bAbI's cast", () => {
        for (const story of stories) expect(layout(story)).toMatch(LAYOUT[taskId]!);
        const names = new Set(
          stories.flatMap((s) => s.lines.flatMap((l) => (l.text.match(/\b[A-Z][a-z]+\b/g) ?? []).filter((w) => !NOT_NAMES.has(w)))),
        );
        expect([...names].sort()).toEqual(taskId === 4 ? [] : (CAST[taskId] ?? ACTORS));
      });

      it("answers every question as an independent reading of the story does, with exactly its supporting facts", () => {
        let checked = 0;
        const answers = new Set<string>();
        for (const story of stories) {
          const derived = readStory(story);
          questionsOf(story).forEach((q, i) => {
            expect(q.answer, `${formatBabi([story])}\nquestion ${q.id}`).toBe(derived[i]!.answer);
            expect(q.supporting, `${formatBabi([story])}\nquestion ${q.id}`).toEqual(derived[i]!.support);
            answers.add(q.answer);
            checked++;
          });
        }
        expect(checked).toBe(300);
        // the answers vary (a generator stuck on one answer would pass the checks above)
        expect(answers.size).toBeGreaterThanOrEqual({ 6: 2, 9: 2, 7: 3, 10: 3 }[taskId] ?? 4);
      });
    });
  }

  it("task 11 tells a named move, then a pronoun move of the same actor, and asks where that actor is", () => {
    for (const story of generateBabi(11, { seed: 3, questions: 500 })) {
      for (const q of questionsOf(story)) {
        const named = /^(\w+) /.exec(statementText(story, q.id - 2))![1]!;
        expect(statementText(story, q.id - 1)).toMatch(new RegExp(`^${THEN} ${FEMALE.has(named) ? "she" : "he"} `));
        expect(q.text).toBe(`Where is ${named}?`);
        expect(q.supporting).toEqual([q.id - 2, q.id - 1]);
      }
    }
  });

  it("tasks 12 and 13 ask about an actor of the pairs just told", () => {
    for (const taskId of [12, 13]) {
      for (const story of generateBabi(taskId, { seed: 3, questions: 500 })) {
        for (const q of questionsOf(story)) {
          const named = [q.id - 2, q.id - 1].flatMap((id) => /^(\w+) and (\w+) /.exec(statementText(story, id))?.slice(1) ?? []);
          expect(named).toHaveLength(taskId === 12 ? 4 : 2);
          expect(named).toContain(/^Where is (\w+)\?$/.exec(q.text)![1]);
        }
      }
    }
  });

  it("task 6 answers yes half the time; task 10 asks about a random place, so no is the majority", () => {
    const share = (taskId: number, answer: string): number => {
      const qs = generateBabi(taskId, { seed: 5, questions: 3000 }).flatMap(questionsOf);
      return qs.filter((q) => q.answer === answer).length / qs.length;
    };
    expect(share(6, "yes")).toBeGreaterThan(0.45);
    expect(share(6, "yes")).toBeLessThan(0.55);
    // a definite place makes 5 of the 6 places "no", an either 4 of them
    expect(share(10, "no")).toBeGreaterThan(0.7);
    expect(share(10, "yes")).toBeGreaterThan(0.05);
    expect(share(10, "maybe")).toBeGreaterThan(0.05);
  });

  it("tasks 7 and 8 give objects, and count up to what the three objects allow", () => {
    for (const taskId of [7, 8]) {
      const stories = generateBabi(taskId, { seed: 5, questions: 2000 });
      expect(stories.some((s) => s.lines.some((l) => / (?:gave|passed|handed) the \w+ to /.test(l.text)))).toBe(true);
      const answers = new Set(stories.flatMap(questionsOf).map((q) => q.answer));
      if (taskId === 7) expect([...answers].sort()).toEqual(["none", "one", "two", ...(answers.has("three") ? ["three"] : [])].sort());
      else expect(answers).toContain("nothing");
    }
  });

  it("task 15 asks about all four actors, task 16 about one whose species has another member", () => {
    for (const story of generateBabi(15, { seed: 3, questions: 200 })) {
      expect(
        questionsOf(story)
          .map((q) => /^What is (\w+) afraid of\?$/.exec(q.text)![1]!)
          .sort(),
      ).toEqual(CAST[15]);
    }
    for (const story of generateBabi(16, { seed: 3, questions: 200 })) {
      const asked = /^What color is (\w+)\?$/.exec(questionsOf(story)[0]!.text)![1]!;
      const species = new Map(
        story.lines.flatMap((l) => {
          const m = /^(\w+) is a (\w+)\.$/.exec(l.text);
          return m ? [[m[1]!, m[2]!] as const] : [];
        }),
      );
      expect(species.size).toBe(5);
      expect([...species.values()].filter((s) => s === species.get(asked))).not.toHaveLength(1);
      expect(story.lines.some((l) => l.text.startsWith(`${asked} is `) && !l.text.startsWith(`${asked} is a `))).toBe(false);
    }
  });
});
