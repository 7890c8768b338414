// Progress display: durations, plain periodic lines for logs, and an in-place bar on a TTY.
import { describe, expect, it } from "vitest";
import { formatDuration, Progress } from "../../src/train/progress.js";

/** A stream that records what is written; `isTTY` selects the display mode. */
function fakeStream(isTTY: boolean, columns?: number) {
  const chunks: string[] = [];
  const stream = {
    isTTY,
    columns,
    write(s: string): boolean {
      chunks.push(s);
      return true;
    },
  };
  return { chunks, stream: stream as unknown as NodeJS.WritableStream & { isTTY: boolean } };
}

/** A clock the test advances by hand (milliseconds). */
function clock() {
  const c = { t: 1000, now: () => c.t };
  return c;
}

describe("formatDuration", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [0.4, "0s"],
    [59.4, "59s"],
    [59.6, "1m00s"],
    [75, "1m15s"],
    [600, "10m00s"],
    [3599.4, "59m59s"],
    [3599.6, "1h00m"],
    [3725, "1h02m"],
    [90061, "25h01m"],
    [NaN, "?"],
    [Infinity, "?"],
    [-1, "?"],
  ];
  for (const [s, want] of cases) it(`${s} s -> ${want}`, () => expect(formatDuration(s)).toBe(want));
});

describe("Progress on a plain stream", () => {
  it("writes one full line every `every` steps and at the end, with values and ETA", () => {
    const { chunks, stream } = fakeStream(false);
    const c = clock();
    const p = new Progress({ total: 10, label: "train", stream, every: 4, now: c.now });
    for (let i = 1; i <= 10; i++) {
      c.t += 2000; // 2 s per step
      p.update(i, { loss: 1 / i });
    }
    p.finish();
    expect(chunks).toEqual([
      "train step 4/10  loss 0.2500  elapsed 8s  eta 12s\n",
      "train step 8/10  loss 0.1250  elapsed 16s  eta 4s\n",
      "train step 10/10  loss 0.1000  elapsed 20s  eta 0s\n",
    ]);
    expect(chunks.join("")).not.toContain("\r");
  });

  it("defaults to about 20 lines per run and formats extreme values in exponent form", () => {
    const { chunks, stream } = fakeStream(false);
    const p = new Progress({ total: 200, stream, now: () => 0 });
    for (let i = 1; i <= 200; i++) p.update(i, { loss: 12345.6, lr: 3e-5, zero: 0 });
    expect(chunks).toHaveLength(20);
    expect(chunks[0]).toBe("step 10/200  loss 1.23e+4  lr 3.00e-5  zero 0.0000  elapsed 0s  eta 0s\n");
  });

  it("bases the ETA of a resumed run on this run's steps only", () => {
    const { chunks, stream } = fakeStream(false);
    const c = clock();
    const p = new Progress({ total: 100, initial: 50, stream, every: 10, now: c.now });
    c.t += 10_000;
    p.update(60); // 10 steps in 10 s: 40 left take 40 s (not 10 s / 60 steps * 40)
    expect(chunks).toEqual(["step 60/100    elapsed 10s  eta 40s\n"]);
  });

  it("writes log lines as they are", () => {
    const { chunks, stream } = fakeStream(false);
    const p = new Progress({ total: 5, stream });
    p.log("step 2: loss 0.5");
    p.finish();
    expect(chunks).toEqual(["step 2: loss 0.5\n"]);
  });
});

describe("Progress on a TTY", () => {
  it("redraws one line in place (throttled), keeps log lines above it, and ends with a newline", () => {
    const { chunks, stream } = fakeStream(true, 100);
    const c = clock();
    const p = new Progress({ total: 4, label: "train", stream, redrawMs: 100, now: c.now });
    c.t += 500;
    p.update(1, { loss: 0.5 });
    c.t += 50;
    p.update(2, { loss: 0.4 }); // within redrawMs: skipped
    p.log("step 2: val 0.45");
    c.t += 10;
    p.update(3, { loss: 0.3 }); // drawn at once after a log line
    c.t += 10;
    p.update(4, { loss: 0.2 }); // the last step is always drawn
    p.finish();

    expect(chunks).toHaveLength(6);
    const bar = (filled: number) => "█".repeat(filled) + "░".repeat(30 - filled);
    expect(chunks[0]).toBe(`\r\x1b[2Ktrain ${bar(8)}  25% 1/4  loss 0.5000  1s<2s`);
    expect(chunks[1]).toBe("\r\x1b[2K");
    expect(chunks[2]).toBe("step 2: val 0.45\n");
    expect(chunks[3]).toBe(`\r\x1b[2Ktrain ${bar(23)}  75% 3/4  loss 0.3000  1s<0s`);
    expect(chunks[4]).toBe(`\r\x1b[2Ktrain ${bar(30)} 100% 4/4  loss 0.2000  1s<0s`);
    expect(chunks[5]).toBe("\n");
    // the bar itself never scrolls: the only newlines are the log line's and finish()'s
    expect(chunks.filter((c) => c.includes("\n"))).toEqual(["step 2: val 0.45\n", "\n"]);
  });

  it("fits the bar to narrow terminals and writes no newline when nothing was drawn", () => {
    const { chunks, stream } = fakeStream(true, 40);
    const p = new Progress({ total: 2, stream, now: () => 0 });
    p.update(2);
    expect(chunks[0]).toContain("█".repeat(10) + " 100%");
    const quiet = fakeStream(true);
    new Progress({ total: 2, stream: quiet.stream }).finish();
    expect(quiet.chunks).toEqual([]);
  });
});
