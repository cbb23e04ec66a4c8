import { expect, test } from "bun:test";
import { CrashBackoff } from "./backoff.ts";

test("first restart is immediate, then 10 s doubling to the cap, reset after a long run", () => {
  let now = 0;
  const b = new CrashBackoff({ initialMs: 10_000, maxMs: 40_000, resetMs: 80_000 }, () => now);
  const k = "uid/c";
  const steps: number[] = [];
  let finished = 0;
  for (let i = 0; i < 5; i++) {
    const wait = b.remaining(k, finished);
    steps.push(wait);
    now = finished + wait;
    b.next(k);
    finished = now + 1_000; // ran one second, crashed
    now = finished;
  }
  expect(steps).toEqual([0, 10_000, 20_000, 40_000, 40_000]);
  expect(b.delay(k)).toBe(40_000);
  // Ran for longer than resetMs: next crash restarts at once, then 10 s again.
  now += 90_000;
  finished = now;
  expect(b.remaining(k, finished)).toBe(0);
  b.next(k);
  now += 1_000;
  expect(b.remaining(k, now)).toBe(10_000);
});

test("keys are independent and forgotten by prefix", () => {
  let now = 0;
  const b = new CrashBackoff({ initialMs: 10, maxMs: 100, resetMs: 1000 }, () => now);
  b.next("a/x");
  expect(b.remaining("a/x", 0)).toBe(10);
  expect(b.remaining("b/x", 0)).toBe(0);
  b.forgetPrefix("a/");
  expect(b.remaining("a/x", 0)).toBe(0);
});
