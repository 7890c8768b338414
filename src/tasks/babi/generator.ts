/**
 * A seeded generator of bAbI stories (Weston et al. 2015) that follows the task definitions of
 * bAbI's public generator (facebookarchive/bAbI-tasks, Lua): the same worlds, the same rules for
 * when an action is possible, the same story layout (statements between questions, questions per
 * story), the same choice of what a question asks about, and the same supporting facts. The code is
 * our own; each task type simulates the world, states facts about it and asks questions whose
 * answers come from what the text has told so far.
 *
 * The world (tasks 1-3, 6-14, bAbI's world_basic): actors John and Daniel (he), Mary and Sandra
 * (she), who start hidden in the kitchen, hallway, bedroom and garden; six places; three objects
 * that can be picked up (apple and milk start in the kitchen, football in the garden). An actor only
 * moves to a place other than the one they are in, only picks up an object lying where they are,
 * only drops what they hold, and only gives what they hold to another actor in the same place.
 * Starting places are never stated, so a question is only asked once the text determines it.
 *
 * Per task type (S = statements, Q = questions):
 *   1  5 x (2 moves, "Where is X?" about a random actor whose move was told). 10 S, 5 Q.
 *   2  moves (1/3) or a random possible pick-up/drop (2/3); after at least 3 statements, each
 *      further statement is followed with probability 1/2 by "Where is the O?" about a random object
 *      whose place the text gives; support: the pick-up and the holder's move, or the dropper's move
 *      and the drop. 5 Q. The Lua only asks about held objects; the released data (v1.2) also asks
 *      about dropped ones, which we follow.
 *   3  the actions and timing of 2; "Where was the O before the P?" about an object whose known
 *      place has changed, P its current place, answer the place before; support: the facts behind
 *      both places (so usually three). 5 Q. As in the Lua, P may have been visited before (the
 *      question means the stay that ends now).
 *   4  three places in a line, "A is D of B" and "B is D of C" (D north or east, each told either
 *      way round, in either order), one question about the middle place in one of four forms. 2 S, 1 Q.
 *   6  as 1, asking "Is X in the P?": P is X's place (yes) or, half the time, another place (no).
 *   7  moves (1/4), pick-up/drop (1/2), give (1/4), each a random possible one; the first question
 *      comes after 2+ statements once someone has handled an object, then one every 2 statements,
 *      5 in all; it asks "How many objects is X carrying?" ("none", "one", ...) about a random actor
 *      who has handled an object; support: everything that actor picked up, dropped or gave. The Lua
 *      leaves out what the actor was given, which the answer depends on; we add those gives.
 *   8  as 7, asking "What is X carrying?": objects comma-joined in alphabetical order, or "nothing".
 *      (The released data lists them in no fixed order; sorting keeps one answer per set.)
 *   9  5 x (2 statements, a question): a move, or (1/2) "X is in the P." (where X is) or "X is not /
 *      no longer in the P." (a place X is not in; both phrasings mean the same, as in bAbI); asks
 *      "Is X in the P?" about a random actor already mentioned: after a negation P is the negated
 *      place (no); otherwise X's place (yes) or, half the time, another place (no). 10 S, 5 Q.
 *  10  as 9 with a move, "X is in the P." or "X is either in the P or the Q." (1/3 each); the
 *      question asks about a random one of the six places (so "no" dominates), "maybe" for the two
 *      places of an either. The Lua's either rule combines the either with the place known before it
 *      (answering yes or no where maybe is meant); we read an either as replacing what was known.
 *  11  5 x ("X moved to P.", "Then he moved to Q.", "Where is X?" = Q); support both sentences.
 *  12  5 x ("A and B went to P.", "C and D went to Q.", where is one of A, B, C, D); A != B, C != D
 *      (the pairs may share an actor), P != Q; support: the sentence that placed the actor last.
 *  13  5 x ("A and B went to P.", "Then they went to Q.", where is A or B = Q); support both.
 *  14  12 moves with a time (yesterday, this morning, this afternoon, this evening) at the start or
 *      end of the sentence, each actor at most once per time and per place, the first four holding
 *      two moves of one actor; "Where was X before the P?" at lines 5, 8, 11, 14, 17 about a random
 *      actor with two or more told moves, P one of them (not the earliest), answer the one told for
 *      the latest earlier time. 12 S, 5 Q.
 *  15  Gertrude, Winona, Jessica and Emily, each a mouse, sheep, wolf or cat; each species afraid
 *      of another; the 8 facts shuffled, then "What is X afraid of?" for all four in random order.
 *      The Lua gives each actor a different species; the released data lets them share one (its
 *      first story has three mice), which we follow.
 *  16  Lily, Bernhard, Greg, Julius and Brian, each a swan, lion, frog or rhino; members of a
 *      species share a colour (gray, white, yellow, green); the species and colour facts of all five
 *      shuffled, except the colour of the asked actor, whose species has another member; support: the
 *      asked actor's species and every fact about the other members of it. 9 S, 1 Q. The Lua gives
 *      each species a different colour; the released data lets two share one (its first story has a
 *      gray swan and a gray rhino), which we follow.
 *
 * Phrasings follow the released data (v1.2), which differs a little from the public Lua: moves
 * "went to", "journeyed to", "travelled to", "moved to", "went back to"; "picked up / got / grabbed
 * / took the O there"; "dropped / put down / discarded / left the O" (the Lua's "let go of" and the
 * data's occasional trailing "there" are left out); "gave / passed / handed the O to Y" (the Lua
 * writes "gave Y the O"); "Then / After that / Following that / Afterwards he|she|they ..." (the
 * Lua's "he then ..." is left out); "is either in the P or the Q"; "carrying" (the Lua: "holding");
 * counts "none", "one", ... (the Lua: "zero"). The released tasks 10 and 14 use another cast
 * (Bill, Fred, Julie, Mary) and places (school, park, cinema); we keep world_basic, as the Lua does.
 * Not implemented: 5, 17, 18, 19, 20 (read the real files for those).
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

const ACTORS = ["John", "Mary", "Sandra", "Daniel"];
const MALE = new Set(["John", "Daniel"]);
const PLACES = ["bedroom", "kitchen", "garden", "hallway", "bathroom", "office"];
/** Where world_basic puts each actor and object before the story starts (never stated). */
const START: Readonly<Record<string, string>> = {
  John: "kitchen",
  Mary: "bedroom",
  Sandra: "garden",
  Daniel: "hallway",
  apple: "kitchen",
  football: "garden",
  milk: "kitchen",
};
const OBJECTS = ["apple", "football", "milk"];
const MOVE = ["went to", "journeyed to", "travelled to", "moved to", "went back to"];
const TAKE = ["picked up", "got", "grabbed", "took"];
const DROP = ["dropped", "put down", "discarded", "left"];
const GIVE = ["gave", "passed", "handed"];
const THEN = ["Then", "After that", "Following that", "Afterwards"];
const NUMBERS = ["none", "one", "two", "three"];

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

function coin(rng: Generator): boolean {
  return rng.random() < 0.5;
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

  done(): BabiStory {
    return { lines: this.lines };
  }
}

const QUESTIONS_PER_STORY = 5;

function moveText(rng: Generator, subject: string, place: string): string {
  return `${subject} ${pick(rng, MOVE)} the ${place}.`;
}

/** A random place other than `not`. */
function otherPlace(rng: Generator, not: string): string {
  return pick(
    rng,
    PLACES.filter((p) => p !== not),
  );
}

function pronoun(actor: string): string {
  return MALE.has(actor) ? "he" : "she";
}

/** Where each actor really is (hidden starting places included), for the move rule. */
class Places {
  readonly at = new Map<string, string>(ACTORS.map((a) => [a, START[a]!]));

  /** A random possible move: a random actor to a random place they are not in. */
  move(rng: Generator, who = pick(rng, ACTORS)): { who: string; to: string } {
    const to = otherPlace(rng, this.at.get(who)!);
    this.at.set(who, to);
    return { who, to };
  }
}

/** Tasks 1 and 6: two moves, then a question about an actor whose place has been told. */
function whereActorTask(rng: Generator, yesNo: boolean): BabiStory {
  const story = new Story();
  const world = new Places();
  const told = new Map<string, { place: string; id: number }>();
  while (story.questions < QUESTIONS_PER_STORY) {
    for (let i = 0; i < 2; i++) {
      const { who, to } = world.move(rng);
      told.set(who, { place: to, id: story.say(moveText(rng, who, to)) });
    }
    const who = pick(rng, [...told.keys()]);
    const { place, id } = told.get(who)!;
    if (!yesNo) story.ask(`Where is ${who}?`, place, [id]);
    else if (coin(rng)) story.ask(`Is ${who} in the ${place}?`, "yes", [id]);
    else story.ask(`Is ${who} in the ${otherPlace(rng, place)}?`, "no", [id]);
  }
  return story.done();
}

/** Task 11: a named move, a pronoun move of the same actor, and where that actor is. */
function task11(rng: Generator): BabiStory {
  const story = new Story();
  const world = new Places();
  while (story.questions < QUESTIONS_PER_STORY) {
    const first = world.move(rng);
    const named = story.say(moveText(rng, first.who, first.to));
    const { to } = world.move(rng, first.who);
    const id = story.say(`${pick(rng, THEN)} ${pronoun(first.who)} ${pick(rng, MOVE)} the ${to}.`);
    story.ask(`Where is ${first.who}?`, to, [named, id]);
  }
  return story.done();
}

/**
 * Tasks 12 and 13. bAbI builds these moves directly rather than sampling possible ones, so an
 * actor may "go" where they already are.
 */
function pairTask(rng: Generator, compound: boolean): BabiStory {
  const story = new Story();
  while (story.questions < QUESTIONS_PER_STORY) {
    const [p, q] = sample(rng, PLACES, 2) as [string, string];
    const first = sample(rng, ACTORS, 2);
    const one = story.say(moveText(rng, first.join(" and "), p));
    if (compound) {
      const two = story.say(`${pick(rng, THEN)} they ${pick(rng, MOVE)} the ${q}.`);
      story.ask(`Where is ${pick(rng, first)}?`, q, [one, two]);
    } else {
      const second = sample(rng, ACTORS, 2);
      const two = story.say(moveText(rng, second.join(" and "), q));
      const who = pick(rng, [...first, ...second]);
      if (second.includes(who)) story.ask(`Where is ${who}?`, q, [two]);
      else story.ask(`Where is ${who}?`, p, [one]);
    }
  }
  return story.done();
}

/** What the latest fact about an actor says, for tasks 9 and 10. */
type Belief = { kind: "in" | "not"; place: string; id: number } | { kind: "either"; places: [string, string]; id: number };

function beliefTask(rng: Generator, negation: boolean): BabiStory {
  const story = new Story();
  const world = new Places();
  const belief = new Map<string, Belief>();
  while (story.questions < QUESTIONS_PER_STORY) {
    for (let i = 0; i < 2; i++) {
      const r = negation ? rng.randint(0, 2) : rng.randint(0, 3);
      if (r === 0) {
        const { who, to } = world.move(rng);
        belief.set(who, { kind: "in", place: to, id: story.say(moveText(rng, who, to)) });
        continue;
      }
      const who = pick(rng, ACTORS);
      const here = world.at.get(who)!;
      if (r === 2) {
        const places = sample(rng, PLACES, 2) as [string, string];
        belief.set(who, { kind: "either", places, id: story.say(`${who} is either in the ${places[0]} or the ${places[1]}.`) });
      } else if (!negation || coin(rng)) {
        belief.set(who, { kind: "in", place: here, id: story.say(`${who} is in the ${here}.`) });
      } else {
        const place = otherPlace(rng, here);
        belief.set(who, { kind: "not", place, id: story.say(`${who} is ${pick(rng, ["not", "no longer"])} in the ${place}.`) });
      }
    }
    const who = pick(rng, [...belief.keys()]);
    const b = belief.get(who)!;
    let asked: string;
    let answer: string;
    if (!negation) {
      asked = pick(rng, PLACES);
      if (b.kind === "either") answer = b.places.includes(asked) ? "maybe" : "no";
      else answer = b.kind === "in" && b.place === asked ? "yes" : "no";
    } else if (b.kind === "in" && coin(rng)) {
      asked = otherPlace(rng, b.place);
      answer = "no";
    } else {
      asked = (b as { place: string }).place;
      answer = b.kind === "in" ? "yes" : "no";
    }
    story.ask(`Is ${who} in the ${asked}?`, answer, [b.id]);
  }
  return story.done();
}

/**
 * The world of tasks 2, 3, 7 and 8: actors move, pick up, drop and give objects. Tracks the real
 * state (for which actions are possible) and what the text has told (for the answers).
 */
class ObjectWorld {
  readonly places = new Places();
  readonly story = new Story();
  /** object -> the actor holding it, or the place it lies in */
  readonly holder = new Map<string, string>();
  readonly lying = new Map<string, string>(OBJECTS.map((o) => [o, START[o]!]));
  /** actor -> the move that told their place */
  readonly moved = new Map<string, { place: string; id: number }>();
  /** object -> the sentence that gave it to its holder */
  readonly gotBy = new Map<string, number>();
  /** object -> where it was dropped and the facts that tell it (the dropper's move, the drop) */
  readonly dropped = new Map<string, { place: string; support: number[] }>();
  /** actor -> the pick-ups, drops and gives they did, and the gives they received */
  readonly handled = new Map<string, number[]>();
  /** actors who picked up, dropped or gave something (counting questions ask about them) */
  readonly handlers = new Set<string>();

  constructor(readonly rng: Generator) {}

  private handle(actor: string, id: number): void {
    this.handled.set(actor, [...(this.handled.get(actor) ?? []), id]);
  }

  carried(actor: string): string[] {
    return OBJECTS.filter((o) => this.holder.get(o) === actor);
  }

  move(): void {
    const { who, to } = this.places.move(this.rng);
    this.moved.set(who, { place: to, id: this.story.say(moveText(this.rng, who, to)) });
  }

  /** A random possible pick-up or drop (uniform over them, as bAbI's rejection sampling is); false if none is. */
  takeOrDrop(): boolean {
    const { rng, story } = this;
    const options: [string, string, boolean][] = [];
    for (const actor of ACTORS) {
      for (const object of OBJECTS) {
        if (this.lying.get(object) === this.places.at.get(actor)) options.push([actor, object, true]);
        if (this.holder.get(object) === actor) options.push([actor, object, false]);
      }
    }
    if (options.length === 0) return false;
    const [actor, object, take] = pick(rng, options);
    if (take) {
      const id = story.say(`${actor} ${pick(rng, TAKE)} the ${object} there.`);
      this.lying.delete(object);
      this.holder.set(object, actor);
      this.gotBy.set(object, id);
      this.dropped.delete(object);
      this.handle(actor, id);
    } else {
      const id = story.say(`${actor} ${pick(rng, DROP)} the ${object}.`);
      const place = this.places.at.get(actor)!;
      this.holder.delete(object);
      this.lying.set(object, place);
      const m = this.moved.get(actor);
      // bAbI knows where a dropped object is only if it knows where the dropper is
      if (m === undefined) this.dropped.delete(object);
      else this.dropped.set(object, { place, support: [m.id, id] });
      this.handle(actor, id);
    }
    this.handlers.add(actor);
    return true;
  }

  /** A random possible give (to another actor in the same place); false if none is. */
  give(): boolean {
    const { rng, story } = this;
    const options: [string, string, string][] = [];
    for (const object of OBJECTS) {
      const actor = this.holder.get(object);
      if (actor === undefined) continue;
      for (const to of ACTORS) if (to !== actor && this.places.at.get(to) === this.places.at.get(actor)) options.push([actor, object, to]);
    }
    if (options.length === 0) return false;
    const [actor, object, to] = pick(rng, options);
    const id = story.say(`${actor} ${pick(rng, GIVE)} the ${object} to ${to}.`);
    this.holder.set(object, to);
    this.gotBy.set(object, id);
    this.handle(actor, id);
    this.handle(to, id);
    this.handlers.add(actor);
    return true;
  }

  /** The object's place as the text tells it now, with its supporting facts; null if untold. */
  toldPlace(object: string): { place: string; support: number[] } | null {
    const actor = this.holder.get(object);
    if (actor === undefined) return this.dropped.get(object) ?? null;
    const m = this.moved.get(actor);
    return m === undefined ? null : { place: m.place, support: [this.gotBy.get(object)!, m.id] };
  }
}

/** Tasks 2 and 3: move (1/3) or pick-up/drop (2/3); a question may follow from the third statement on. */
function objectPlaceTask(rng: Generator, before: boolean): BabiStory {
  const world = new ObjectWorld(rng);
  const { story } = world;
  /** object -> the places the text has put it in, consecutive ones different */
  const history = new Map<string, { place: string; support: number[] }[]>(OBJECTS.map((o) => [o, []]));
  let sinceQuestion = 0;
  while (story.questions < QUESTIONS_PER_STORY) {
    if (rng.randint(0, 3) === 0) world.move();
    else if (!world.takeOrDrop()) continue;
    sinceQuestion++;
    for (const object of OBJECTS) {
      const now = world.toldPlace(object);
      const h = history.get(object)!;
      if (now !== null && (h.length === 0 || h[h.length - 1]!.place !== now.place)) h.push(now);
    }
    if (sinceQuestion <= 2 || !coin(rng)) continue;
    if (before) {
      const known = OBJECTS.filter((o) => history.get(o)!.length > 1);
      if (known.length === 0) continue;
      const object = pick(rng, known);
      const h = history.get(object)!;
      const [was, now] = h.slice(-2) as [(typeof h)[number], (typeof h)[number]];
      story.ask(`Where was the ${object} before the ${now.place}?`, was.place, [...was.support, ...now.support]);
    } else {
      const known = OBJECTS.filter((o) => world.toldPlace(o) !== null);
      if (known.length === 0) continue;
      const object = pick(rng, known);
      const { place, support } = world.toldPlace(object)!;
      story.ask(`Where is the ${object}?`, place, support);
    }
    sinceQuestion = 0;
  }
  return story.done();
}

/** Tasks 7 and 8: move (1/4), pick-up/drop (1/2) or give (1/4); questions every 2 statements. */
function carryTask(rng: Generator, counting: boolean): BabiStory {
  const world = new ObjectWorld(rng);
  const { story } = world;
  let statements = 0;
  let first = -1;
  while (first < 0 || statements - first < 8) {
    const r = rng.randint(0, 4);
    if (r === 0) world.move();
    else if (r === 3 ? !world.give() : !world.takeOrDrop()) continue;
    statements++;
    if (first < 0 ? statements < 2 || world.handlers.size === 0 : (statements - first) % 2 !== 0) continue;
    if (first < 0) first = statements;
    const who = pick(
      rng,
      ACTORS.filter((a) => world.handlers.has(a)),
    );
    const carried = world.carried(who);
    const support = world.handled.get(who)!;
    if (counting) story.ask(`How many objects is ${who} carrying?`, NUMBERS[carried.length]!, support);
    else story.ask(`What is ${who} carrying?`, carried.length === 0 ? "nothing" : carried.join(","), support);
  }
  return story.done();
}

const OPPOSITE: Readonly<Record<string, string>> = { north: "south", south: "north", east: "west", west: "east" };

/** "The A is D of the B.", told either way round. */
function relationText(rng: Generator, [a, d, b]: readonly [string, string, string]): string {
  return coin(rng) ? `The ${a} is ${d} of the ${b}.` : `The ${b} is ${OPPOSITE[d]} of the ${a}.`;
}

/** Task 4: three places in a line; a question about the middle one and one end. */
function task4(rng: Generator): BabiStory {
  const story = new Story();
  const [a, b, c] = sample(rng, PLACES, 3) as [string, string, string];
  const d = pick(rng, ["north", "east"]);
  const facts: [string, string, string][] = [
    [a, d, b],
    [b, d, c],
  ];
  const swap = coin(rng);
  const ids = (swap ? [1, 0] : [0, 1]).map((i) => ({ i, id: story.say(relationText(rng, facts[i]!)) }));
  // the asked relation, read as "x is e of y": b and c as told, or b and a the other way round
  const k = rng.randint(0, 2);
  const [x, e, y] = k === 1 ? [b, d, c] : [b, OPPOSITE[d]!, a];
  const support = [ids.find((f) => f.i === k)!.id];
  const forms: [string, string][] = [
    [`What is ${e} of the ${y}?`, x],
    [`What is ${OPPOSITE[e]} of the ${x}?`, y],
    [`What is the ${x} ${e} of?`, y],
    [`What is the ${y} ${OPPOSITE[e]} of?`, x],
  ];
  const [question, answer] = pick(rng, forms);
  story.ask(question, answer, support);
  return story.done();
}

const TIMES = ["yesterday", "this morning", "this afternoon", "this evening"];

/** Task 14: moves at times of day, told out of order; "before" means the latest earlier told time. */
function task14(rng: Generator): BabiStory {
  const story = new Story();
  /** actor -> the place of each time slot, and the sentence telling it */
  const day = new Map<string, ({ place: string; id: number } | undefined)[]>(
    ACTORS.map((a) => [a, [undefined, undefined, undefined, undefined]]),
  );
  // line ids are line numbers, so a move can be planned before it is told
  const plan = (who: string, time: number, place: string, line: number): void => {
    day.get(who)![time] = { place, id: line };
  };
  const say = (who: string, time: number, place: string): void => {
    const when = TIMES[time]!;
    const move = `${pick(rng, MOVE)} the ${place}`;
    story.say(coin(rng) ? `${when[0]!.toUpperCase()}${when.slice(1)} ${who} ${move}.` : `${who} ${move} ${when}.`);
  };
  // two moves of one actor among the first four statements, so the first question has an answer
  const first = sample(rng, [1, 2, 3, 4], 2);
  const firstActor = pick(rng, ACTORS);
  const firstPlaces = sample(rng, PLACES, 2);
  const firstTimes = sample(rng, [0, 1, 2, 3], 2);
  first.forEach((line, k) => plan(firstActor, firstTimes[k]!, firstPlaces[k]!, line));
  for (let line = 1; line <= QUESTIONS_PER_STORY * 3 + 2; line++) {
    if (line > 2 && (line - 2) % 3 === 0) {
      const askable = ACTORS.filter((a) => day.get(a)!.filter((m) => m !== undefined).length > 1);
      const who = pick(rng, askable);
      const told = day.get(who)!.filter((m) => m !== undefined);
      const t = rng.randint(0, told.length - 1);
      story.ask(`Where was ${who} before the ${told[t + 1]!.place}?`, told[t]!.place, [told[t]!.id, told[t + 1]!.id]);
    } else if (first.includes(line)) {
      const k = first.indexOf(line);
      say(firstActor, firstTimes[k]!, firstPlaces[k]!);
    } else {
      // a free time slot of a random actor, at a place that actor has not been (always exists: 12 moves, 16 slots)
      for (;;) {
        const who = pick(rng, ACTORS);
        const time = rng.randint(0, 4);
        const place = pick(rng, PLACES);
        const moves = day.get(who)!;
        if (moves[time] === undefined && !moves.some((m) => m?.place === place)) {
          plan(who, time, place, line);
          say(who, time, place);
          break;
        }
      }
    }
  }
  return story.done();
}

const SPECIES: readonly (readonly [string, string])[] = [
  ["mouse", "Mice"],
  ["sheep", "Sheep"],
  ["wolf", "Wolves"],
  ["cat", "Cats"],
];

/** Task 15: "Sheep are afraid of wolves. Gertrude is a sheep. What is Gertrude afraid of? wolf". */
function task15(rng: Generator): BabiStory {
  const story = new Story();
  const names = ["Gertrude", "Winona", "Jessica", "Emily"];
  const kind = names.map(() => rng.randint(0, SPECIES.length));
  const fear = SPECIES.map((_, s) =>
    pick(
      rng,
      SPECIES.map((_, t) => t).filter((t) => t !== s),
    ),
  );
  // facts 0-3 say what each actor is, 4-7 what each species fears; all told in random order
  const ids: number[] = [];
  for (const f of sample(
    rng,
    Array.from({ length: 8 }, (_, f) => f),
    8,
  )) {
    ids[f] =
      f < 4
        ? story.say(`${names[f]} is a ${SPECIES[kind[f]!]![0]}.`)
        : story.say(`${SPECIES[f - 4]![1]} are afraid of ${SPECIES[fear[f - 4]!]![1].toLowerCase()}.`);
  }
  for (const n of sample(rng, [0, 1, 2, 3], 4)) {
    story.ask(`What is ${names[n]} afraid of?`, SPECIES[fear[kind[n]!]!]![0], [ids[n]!, ids[4 + kind[n]!]!]);
  }
  return story.done();
}

const ANIMALS = ["swan", "lion", "frog", "rhino"];
const COLOURS = ["gray", "white", "yellow", "green"];

/** Task 16: members of a species share a colour; the asked actor's colour must be induced. */
function task16(rng: Generator): BabiStory {
  const story = new Story();
  const names = ["Lily", "Bernhard", "Greg", "Julius", "Brian"];
  const colour = ANIMALS.map(() => pick(rng, COLOURS));
  const kind = names.map(() => rng.randint(0, ANIMALS.length));
  const asked = rng.randint(0, names.length);
  while (kind.filter((k) => k === kind[asked]).length < 2) kind[asked] = rng.randint(0, ANIMALS.length);
  // facts 0-4 say what each actor is, 5-9 their colour (the asked actor's colour is the question)
  const facts = Array.from({ length: 10 }, (_, f) => f).filter((f) => f !== 5 + asked);
  const ids: number[] = [];
  for (const f of sample(rng, facts, facts.length)) {
    ids[f] = f < 5 ? story.say(`${names[f]} is a ${ANIMALS[kind[f]!]}.`) : story.say(`${names[f - 5]} is ${colour[kind[f - 5]!]}.`);
  }
  const support = [ids[asked]!];
  names.forEach((_, n) => {
    if (n !== asked && kind[n] === kind[asked]) support.push(ids[n]!, ids[5 + n]!);
  });
  story.ask(`What color is ${names[asked]}?`, colour[kind[asked]!]!, support);
  return story.done();
}

const GENERATORS: Readonly<Record<number, (rng: Generator) => BabiStory>> = {
  1: (rng) => whereActorTask(rng, false),
  2: (rng) => objectPlaceTask(rng, false),
  3: (rng) => objectPlaceTask(rng, true),
  4: task4,
  6: (rng) => whereActorTask(rng, true),
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
