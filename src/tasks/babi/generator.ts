/**
 * A seeded generator of bAbI-style stories (Weston et al. 2015), written from scratch: each task
 * type simulates a small world (who is where, who holds what, what is afraid of what) and states
 * facts about it, then asks questions whose answers and supporting facts come from the simulation.
 *
 * Task types implemented (numbers as in bAbI): 1 single supporting fact, 2 two supporting facts,
 * 3 three supporting facts, 4 two-argument relations, 6 yes/no questions, 7 counting, 8 lists/sets,
 * 9 simple negation, 10 indefinite knowledge, 11 basic coreference, 12 conjunction, 13 compound
 * coreference, 14 time reasoning, 15 basic deduction, 16 basic induction. Not implemented: 5, 17,
 * 18, 19, 20 (read the real files for those).
 *
 * Stories use a fixed phrasing per fact type (the vocabulary is small, as in bAbI) so an independent
 * reader of the text can re-derive every answer; the tests do exactly that.
 */
import { ArgumentError } from "../../core/errors.js";
import { Generator } from "../../core/rng.js";
import { hashWords } from "../seeding.js";
import type { BabiLine, BabiStory } from "./reader.js";

export const BABI_TASK_IDS: readonly number[] = [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

export const BABI_TASK_NAMES: Readonly<Record<number, string>> = {
  1: "single supporting fact",
  2: "two supporting facts",
  3: "three supporting facts",
  4: "two argument relations",
  6: "yes/no questions",
  7: "counting",
  8: "lists/sets",
  9: "simple negation",
  10: "indefinite knowledge",
  11: "basic coreference",
  12: "conjunction",
  13: "compound coreference",
  14: "time reasoning",
  15: "basic deduction",
  16: "basic induction",
};

const ACTORS = ["Mary", "John", "Daniel", "Sandra", "Julie", "Fred", "Bill", "Emily"];
const FEMALE = new Set(["Mary", "Sandra", "Julie", "Emily"]);
const PLACES = ["kitchen", "garden", "hallway", "bathroom", "bedroom", "office"];
const OBJECTS = ["apple", "football", "milk", "box", "pen"];
const MOVE = ["went to", "moved to", "journeyed to", "travelled to", "went back to"];
const TAKE = ["picked up", "got", "grabbed", "took"];
const DROP = ["dropped", "put down", "discarded", "left"];
const THEN = ["Then", "After that", "Following that", "Afterwards"];
const NUMBERS = ["none", "one", "two", "three", "four", "five"];

function pick<T>(rng: Generator, items: readonly T[]): T {
  return items[rng.randint(0, items.length)]!;
}

/** `count` distinct items in random order. */
function sample<T>(rng: Generator, items: readonly T[], count: number): T[] {
  const pool = items.slice();
  for (let i = 0; i < count; i++) {
    const j = rng.randint(i, pool.length);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}

/** Accumulates a story's lines, numbering them. */
class Story {
  readonly lines: BabiLine[] = [];
  questions = 0;

  say(text: string): number {
    const id = this.lines.length + 1;
    this.lines.push({ kind: "statement", id, text });
    return id;
  }

  ask(text: string, answer: string, supporting: readonly number[]): void {
    const id = this.lines.length + 1;
    this.lines.push({ kind: "question", id, text, answer, supporting: [...new Set(supporting)].sort((a, b) => a - b) });
    this.questions++;
  }
}

const QUESTIONS_PER_STORY = 5;

/**
 * Actors moving between places (tasks 1, 6, 11, 12, 13). `phrase` states one move of `who` and
 * returns the supporting ids of the fact that now places each of them.
 */
function movementStory(
  rng: Generator,
  opts: {
    movesBetween: readonly [number, number];
    /** `last`: the previous move's subjects and the sentence that named them (pronouns refer to it). */
    move: (story: Story, last: { who: string[]; namedIn: number } | null) => { who: string[]; place: string; support: number[] };
    question: (story: Story, located: Map<string, { place: string; support: number[] }>) => void;
  },
): BabiStory {
  const story = new Story();
  const located = new Map<string, { place: string; support: number[] }>();
  let last: { who: string[]; namedIn: number } | null = null;
  while (story.questions < QUESTIONS_PER_STORY) {
    const moves = rng.randint(opts.movesBetween[0], opts.movesBetween[1] + 1);
    for (let i = 0; i < moves; i++) {
      const { who, place, support } = opts.move(story, last);
      for (const a of who) located.set(a, { place, support });
      // a pronoun move's support starts with the naming sentence; a named move's is itself
      last = { who, namedIn: support[0]! };
    }
    opts.question(story, located);
  }
  return { lines: story.lines };
}

function moveText(rng: Generator, subject: string, place: string): string {
  return `${subject} ${pick(rng, MOVE)} the ${place}.`;
}

/** A place other than `not` (so every move changes something). */
function otherPlace(rng: Generator, not: string | undefined): string {
  return pick(
    rng,
    PLACES.filter((p) => p !== not),
  );
}

function whereQuestion(rng: Generator, cast: readonly string[]) {
  return (story: Story, located: Map<string, { place: string; support: number[] }>): void => {
    const known = cast.filter((a) => located.has(a));
    const who = pick(rng, known);
    const fact = located.get(who)!;
    story.ask(`Where is ${who}?`, fact.place, fact.support);
  };
}

function task1(rng: Generator): BabiStory {
  const cast = sample(rng, ACTORS, 4);
  const place = new Map<string, string>();
  return movementStory(rng, {
    movesBetween: [2, 2],
    move: (story) => {
      const who = pick(rng, cast);
      const to = otherPlace(rng, place.get(who));
      place.set(who, to);
      return { who: [who], place: to, support: [story.say(moveText(rng, who, to))] };
    },
    question: whereQuestion(rng, cast),
  });
}

function task6(rng: Generator): BabiStory {
  const cast = sample(rng, ACTORS, 4);
  const place = new Map<string, string>();
  return movementStory(rng, {
    movesBetween: [2, 2],
    move: (story) => {
      const who = pick(rng, cast);
      const to = otherPlace(rng, place.get(who));
      place.set(who, to);
      return { who: [who], place: to, support: [story.say(moveText(rng, who, to))] };
    },
    question: (story, located) => {
      const who = pick(
        rng,
        cast.filter((a) => located.has(a)),
      );
      const fact = located.get(who)!;
      const yes = rng.random() < 0.5;
      const asked = yes ? fact.place : otherPlace(rng, fact.place);
      story.ask(`Is ${who} in the ${asked}?`, yes ? "yes" : "no", fact.support);
    },
  });
}

/** Task 11: a move is often told with a pronoun for the previous sentence's subject. */
function task11(rng: Generator): BabiStory {
  const cast = sample(rng, ACTORS, 4);
  const place = new Map<string, string>();
  return movementStory(rng, {
    movesBetween: [2, 3],
    move: (story, last) => {
      if (last !== null && rng.random() < 0.5) {
        const who = last.who[0]!;
        const to = otherPlace(rng, place.get(who));
        place.set(who, to);
        const id = story.say(`${pick(rng, THEN)} ${FEMALE.has(who) ? "she" : "he"} ${pick(rng, MOVE)} the ${to}.`);
        // the referent is resolved by the sentence that named `who`
        return { who: [who], place: to, support: [last.namedIn, id] };
      }
      const who = pick(rng, cast);
      const to = otherPlace(rng, place.get(who));
      place.set(who, to);
      return { who: [who], place: to, support: [story.say(moveText(rng, who, to))] };
    },
    question: whereQuestion(rng, cast),
  });
}

/** Tasks 12 and 13: pairs move together; in 13 "they" refers to the previous sentence's pair. */
function pairTask(rng: Generator, pronouns: boolean): BabiStory {
  const cast = sample(rng, ACTORS, 4);
  return movementStory(rng, {
    movesBetween: [2, 3],
    move: (story, last) => {
      const to = pick(rng, PLACES);
      if (pronouns && last !== null && last.who.length === 2 && rng.random() < 0.5) {
        const id = story.say(`${pick(rng, THEN)} they ${pick(rng, MOVE)} the ${to}.`);
        return { who: last.who, place: to, support: [last.namedIn, id] };
      }
      if (rng.random() < (pronouns ? 0.8 : 0.5)) {
        const [a, b] = sample(rng, cast, 2) as [string, string];
        return { who: [a, b], place: to, support: [story.say(moveText(rng, `${a} and ${b}`, to))] };
      }
      const who = pick(rng, cast);
      return { who: [who], place: to, support: [story.say(moveText(rng, who, to))] };
    },
    question: whereQuestion(rng, cast),
  });
}

/** Where a fact puts someone, for tasks 9 and 10 (whose questions ask "Is X in the P?"). */
type Belief = { kind: "in"; place: string } | { kind: "not"; place: string } | { kind: "either"; places: [string, string] };

function beliefTask(rng: Generator, negation: boolean): BabiStory {
  const cast = sample(rng, ACTORS, 4);
  const story = new Story();
  const belief = new Map<string, { b: Belief; id: number }>();
  while (story.questions < QUESTIONS_PER_STORY) {
    for (let i = 0; i < 2; i++) {
      const who = pick(rng, cast);
      const r = rng.random();
      let b: Belief;
      let text: string;
      const now = belief.get(who)?.b;
      if (negation && r < 0.3) {
        // "no longer" only for where they were said to be
        const was = now?.kind === "in" && rng.random() < 0.5 ? now.place : null;
        b = { kind: "not", place: was ?? pick(rng, PLACES) };
        text = `${who} is ${was !== null ? "no longer" : "not"} in the ${b.place}.`;
      } else if (!negation && r < 0.4) {
        const [p, q] = sample(rng, PLACES, 2) as [string, string];
        b = { kind: "either", places: [p, q] };
        text = `${who} is either in the ${p} or the ${q}.`;
      } else {
        b = { kind: "in", place: pick(rng, PLACES) };
        text = negation ? `${who} is in the ${b.place}.` : moveText(rng, who, b.place);
      }
      belief.set(who, { b, id: story.say(text) });
    }
    const who = pick(
      rng,
      cast.filter((a) => belief.has(a)),
    );
    const { b, id } = belief.get(who)!;
    let asked: string;
    let answer: string;
    if (b.kind === "in") {
      asked = rng.random() < 0.5 ? b.place : otherPlace(rng, b.place);
      answer = asked === b.place ? "yes" : "no";
    } else if (b.kind === "not") {
      // only the negated place has a definite answer
      asked = b.place;
      answer = "no";
    } else if (rng.random() < 0.6) {
      asked = pick(rng, b.places);
      answer = "maybe";
    } else {
      asked = pick(
        rng,
        PLACES.filter((p) => !b.places.includes(p)),
      );
      answer = "no";
    }
    story.ask(`Is ${who} in the ${asked}?`, answer, [id]);
  }
  return { lines: story.lines };
}

/**
 * The object world of tasks 2, 3, 7 and 8: actors move, pick objects up where they stand and drop
 * them. Each object keeps the history of places it has been, with the facts that put it there.
 */
class ObjectWorld {
  readonly cast: string[];
  readonly objects: string[];
  readonly story = new Story();
  /** actor -> place and the move that put them there */
  readonly at = new Map<string, { place: string; id: number }>();
  /** object -> holder and the pick-up fact */
  readonly holder = new Map<string, { actor: string; id: number }>();
  /** object -> places it has been (consecutive entries differ), each with its supporting facts */
  readonly history = new Map<string, { place: string; support: number[] }[]>();
  /** actor -> ids of their pick-up and drop facts */
  readonly handled = new Map<string, number[]>();

  constructor(
    readonly rng: Generator,
    actors: number,
    objects: number,
  ) {
    this.cast = sample(rng, ACTORS, actors);
    this.objects = sample(rng, OBJECTS, objects);
  }

  carried(actor: string): string[] {
    return this.objects.filter((o) => this.holder.get(o)?.actor === actor);
  }

  /** The object's place now: with its holder, or where it was dropped. */
  private setPlace(object: string, place: string, support: number[]): void {
    const h = this.history.get(object) ?? [];
    if (h.length === 0 || h[h.length - 1]!.place !== place) h.push({ place, support });
    else h[h.length - 1] = { place, support };
    this.history.set(object, h);
  }

  /** One random event: a move (always possible), a pick-up or a drop. */
  step(moveWeight = 0.5): void {
    const { rng, story } = this;
    const who = pick(rng, this.cast);
    const here = this.at.get(who);
    const carried = this.carried(who);
    const takeable =
      here === undefined
        ? []
        : this.objects.filter((o) => {
            if (this.holder.has(o)) return false;
            const h = this.history.get(o);
            return h === undefined || h[h.length - 1]!.place === here.place;
          });
    const r = rng.random();
    if (here !== undefined && r >= moveWeight && (takeable.length > 0 || carried.length > 0)) {
      const take = carried.length === 0 || (takeable.length > 0 && rng.random() < 0.6);
      if (take) {
        const object = pick(rng, takeable);
        const id = story.say(`${who} ${pick(rng, TAKE)} the ${object}.`);
        this.holder.set(object, { actor: who, id });
        this.setPlace(object, here.place, [here.id, id]);
        this.handled.set(who, [...(this.handled.get(who) ?? []), id]);
      } else {
        const object = pick(rng, carried);
        const id = story.say(`${who} ${pick(rng, DROP)} the ${object}.`);
        this.holder.delete(object);
        this.setPlace(object, here.place, [here.id, id]);
        this.handled.set(who, [...(this.handled.get(who) ?? []), id]);
      }
      return;
    }
    const to = otherPlace(rng, here?.place);
    const id = story.say(moveText(rng, who, to));
    this.at.set(who, { place: to, id });
    for (const object of carried) this.setPlace(object, to, [this.holder.get(object)!.id, id]);
  }
}

function task2(rng: Generator): BabiStory {
  const world = new ObjectWorld(rng, 4, 4);
  while (world.story.questions < QUESTIONS_PER_STORY) {
    for (let i = rng.randint(2, 5); i > 0; i--) world.step();
    const placed = world.objects.filter((o) => world.history.has(o));
    if (placed.length === 0) continue;
    const object = pick(rng, placed);
    const h = world.history.get(object)!;
    const now = h[h.length - 1]!;
    world.story.ask(`Where is the ${object}?`, now.place, now.support);
  }
  return { lines: world.story.lines };
}

function task3(rng: Generator): BabiStory {
  const world = new ObjectWorld(rng, 3, 3);
  while (world.story.questions < QUESTIONS_PER_STORY) {
    for (let i = rng.randint(3, 7); i > 0; i--) world.step(0.6);
    // "before the P" names one visit only when the object has been at P once
    const askable = world.objects.filter((o) => {
      const h = world.history.get(o);
      return h !== undefined && h.length >= 2 && h.filter((e) => e.place === h[h.length - 1]!.place).length === 1;
    });
    if (askable.length === 0) continue;
    const object = pick(rng, askable);
    const h = world.history.get(object)!;
    const now = h[h.length - 1]!;
    const before = h[h.length - 2]!;
    world.story.ask(`Where was the ${object} before the ${now.place}?`, before.place, [...before.support, ...now.support]);
  }
  return { lines: world.story.lines };
}

function carryTask(rng: Generator, counting: boolean): BabiStory {
  const world = new ObjectWorld(rng, 3, 4);
  while (world.story.questions < QUESTIONS_PER_STORY) {
    for (let i = rng.randint(2, 4); i > 0; i--) world.step(0.4);
    const active = world.cast.filter((a) => world.handled.has(a));
    if (active.length === 0) continue;
    const who = pick(rng, active);
    const carried = world.carried(who).sort();
    const support = world.handled.get(who)!;
    if (counting) world.story.ask(`How many objects is ${who} carrying?`, NUMBERS[carried.length]!, support);
    else world.story.ask(`What is ${who} carrying?`, carried.length === 0 ? "nothing" : carried.join(","), support);
  }
  return { lines: world.story.lines };
}

const OPPOSITE: Readonly<Record<string, string>> = { north: "south", south: "north", east: "west", west: "east" };

/** Task 4: two facts relate three places; one question reads one fact either way round. */
function task4(rng: Generator): BabiStory {
  const story = new Story();
  const [centre, x, y] = sample(rng, PLACES, 3) as [string, string, string];
  const [d1, d2] = sample(rng, Object.keys(OPPOSITE), 2) as [string, string];
  // the relations the two facts state: [a, direction, b] reads "a is direction of b"
  const relations: [string, string, string, number][] = [];
  for (const [other, d] of [
    [x, d1],
    [y, d2],
  ] as const) {
    const flip = rng.random() < 0.5;
    const id = story.say(flip ? `The ${centre} is ${OPPOSITE[d]} of the ${other}.` : `The ${other} is ${d} of the ${centre}.`);
    relations.push([other, d, centre, id], [centre, OPPOSITE[d]!, other, id]);
  }
  const [a, d, b, id] = pick(rng, relations);
  if (rng.random() < 0.5) story.ask(`What is ${d} of the ${b}?`, a, [id]);
  else story.ask(`What is the ${a} ${d} of?`, b, [id]);
  return { lines: story.lines };
}

const TIMES = ["Yesterday", "This morning", "This afternoon", "This evening"];

/** Task 14: each actor's day in four places, told out of order; questions ask what came before. */
function task14(rng: Generator): BabiStory {
  const story = new Story();
  const cast = sample(rng, ACTORS, 2);
  const facts: { who: string; time: number; place: string }[] = [];
  for (const who of cast) {
    let place: string | undefined;
    for (let t = 0; t < TIMES.length; t++) {
      place = otherPlace(rng, place);
      facts.push({ who, time: t, place });
    }
  }
  const ids = new Map<(typeof facts)[number], number>();
  for (const f of sample(rng, facts, facts.length)) ids.set(f, story.say(`${TIMES[f.time]} ${f.who} ${pick(rng, MOVE)} the ${f.place}.`));
  for (const who of cast) {
    const day = facts.filter((f) => f.who === who);
    // "before the P" must name one visit
    const askable = day.filter((f) => f.time > 0 && day.filter((g) => g.place === f.place).length === 1);
    if (askable.length === 0) continue;
    const f = pick(rng, askable);
    const before = day[f.time - 1]!;
    story.ask(`Where was ${who} before the ${f.place}?`, before.place, [ids.get(before)!, ids.get(f)!]);
  }
  if (story.questions === 0) return task14(rng);
  return { lines: story.lines };
}

const SPECIES: readonly (readonly [string, string])[] = [
  ["mouse", "Mice"],
  ["sheep", "Sheep"],
  ["wolf", "Wolves"],
  ["cat", "Cats"],
];
const NAMES = ["Gertrude", "Winona", "Emily", "Jessica", "Lily", "Bernhard", "Greg", "Brian", "Julius"];

/** Task 15: "Sheep are afraid of wolves. Gertrude is a sheep. What is Gertrude afraid of? wolf". */
function task15(rng: Generator): BabiStory {
  const story = new Story();
  const fearId = new Map<string, number>();
  const fears = new Map<string, string>();
  for (const [singular, plural] of sample(rng, SPECIES, SPECIES.length)) {
    const feared = pick(
      rng,
      SPECIES.filter((s) => s[0] !== singular),
    );
    fears.set(singular, feared[0]);
    fearId.set(singular, story.say(`${plural} are afraid of ${feared[1].toLowerCase()}.`));
  }
  const members: [string, string, number][] = [];
  for (const name of sample(rng, NAMES, 4)) {
    const [species] = pick(rng, SPECIES);
    members.push([name, species, story.say(`${name} is a ${species}.`)]);
  }
  for (const [name, species, id] of sample(rng, members, 3)) {
    story.ask(`What is ${name} afraid of?`, fears.get(species)!, [id, fearId.get(species)!]);
  }
  return { lines: story.lines };
}

const ANIMALS = ["swan", "lion", "frog", "rhino"];
const COLOURS = ["white", "gray", "yellow", "green"];

/** Task 16: members of a species share a colour; the asked animal's colour must be induced. */
function task16(rng: Generator): BabiStory {
  const story = new Story();
  const colourOf = new Map<string, string>();
  const animals = sample(rng, ANIMALS, 3);
  const colours = sample(rng, COLOURS, 3);
  animals.forEach((a, i) => colourOf.set(a, colours[i]!));
  const names = sample(rng, NAMES, 5);
  const species = names.map((_, i) => (i < 2 ? animals[0]! : pick(rng, animals)));
  // the asked animal (index 0) and one other member of its species (index 1) exist
  const order = sample(
    rng,
    names.map((_, i) => i),
    names.length,
  );
  const speciesId: number[] = [];
  const colourId: number[] = [];
  for (const i of order) {
    speciesId[i] = story.say(`${names[i]} is a ${species[i]}.`);
    if (i !== 0) colourId[i] = story.say(`${names[i]} is ${colourOf.get(species[i]!)}.`);
  }
  story.ask(`What color is ${names[0]}?`, colourOf.get(species[0]!)!, [speciesId[0]!, speciesId[1]!, colourId[1]!]);
  return { lines: story.lines };
}

const GENERATORS: Readonly<Record<number, (rng: Generator) => BabiStory>> = {
  1: task1,
  2: task2,
  3: task3,
  4: task4,
  6: task6,
  7: (rng) => carryTask(rng, true),
  8: (rng) => carryTask(rng, false),
  9: (rng) => beliefTask(rng, true),
  10: (rng) => beliefTask(rng, false),
  11: task11,
  12: (rng) => pairTask(rng, false),
  13: (rng) => pairTask(rng, true),
  14: task14,
  15: task15,
  16: task16,
};

/** Checks a bAbI task number; the message lists the implemented ones. */
export function checkBabiTaskId(op: string, taskId: number): void {
  if (!Object.hasOwn(GENERATORS, taskId)) {
    throw new ArgumentError(`${op}: bAbI task ${taskId} is not generated; implemented task types are ${BABI_TASK_IDS.join(", ")}`);
  }
}

/** One story of task `taskId`, drawn from `rng`. */
export function generateStory(taskId: number, rng: Generator): BabiStory {
  checkBabiTaskId("generateStory", taskId);
  return GENERATORS[taskId]!(rng);
}

export interface GenerateOptions {
  seed: number;
  /** Questions to generate; the last story is cut after the last question needed. */
  questions: number;
  /** Salts the stream, so a test set drawn with the same seed differs from the training set. */
  stream?: number;
  /** Stories to reject (e.g. because one of their examples is already in another split). */
  accept?: (story: BabiStory) => boolean;
}

/** Stories of task `taskId` holding exactly `questions` questions, a pure function of the options. */
export function generateBabi(taskId: number, opts: GenerateOptions): BabiStory[] {
  checkBabiTaskId("generateBabi", taskId);
  if (!Number.isSafeInteger(opts.questions) || opts.questions < 1) {
    throw new ArgumentError(`generateBabi: questions must be a positive integer, got ${String(opts.questions)}`);
  }
  const seed = opts.seed;
  const rng = new Generator(hashWords([taskId, seed >>> 0, Math.floor(seed / 2 ** 32), opts.stream ?? 0], 0xba81));
  const stories: BabiStory[] = [];
  let count = 0;
  let rejected = 0;
  while (count < opts.questions) {
    const story = GENERATORS[taskId]!(rng);
    if (opts.accept !== undefined && !opts.accept(story)) {
      // a task whose story space is nearly exhausted by the other splits cannot be split
      if (++rejected > 100 * (stories.length + 10)) throw new ArgumentError(`generateBabi: task ${taskId} rejects almost every story`);
      continue;
    }
    let lines = story.lines;
    const asked = lines.filter((l) => l.kind === "question").length;
    if (count + asked > opts.questions) {
      let keep = opts.questions - count;
      const cut = lines.findIndex((l) => l.kind === "question" && --keep === 0);
      lines = lines.slice(0, cut + 1);
    }
    count += Math.min(asked, opts.questions - count);
    stories.push({ lines });
  }
  return stories;
}
