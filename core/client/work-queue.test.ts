import { describe, expect, test } from "bun:test";
import { BucketRateLimiter, ExponentialFailureRateLimiter, MaxOfRateLimiter } from "./rate-limit.ts";
import { RateLimitingQueue } from "./work-queue.ts";

/** Resolves with `p`'s value, or "pending" if it has not settled within `ms`. */
async function settledWithin<T>(p: Promise<T>, ms: number): Promise<T | "pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([p, new Promise<"pending">((res) => (timer = setTimeout(() => res("pending"), ms)))]);
  clearTimeout(timer);
  return r;
}

const noBucket = { bucket: false } as const;

describe("RateLimitingQueue", () => {
  test("a key added while queued is queued once, in FIFO order", async () => {
    const q = new RateLimitingQueue(noBucket);
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(q.length).toBe(0);
  });

  test("a key added while processing is queued again only after done", async () => {
    const q = new RateLimitingQueue(noBucket);
    q.add("a");
    const k = await q.get();
    q.add("a");
    q.add("a");
    expect(q.length).toBe(0);
    const next = q.get();
    expect(await settledWithin(next, 20)).toBe("pending");
    q.done(k!);
    // Re-queued once, and handed straight to the get that was waiting.
    expect(await next).toBe("a");
    expect(q.length).toBe(0);
    const q2 = new RateLimitingQueue(noBucket);
    q2.add("x");
    const x = await q2.get();
    q2.add("x");
    q2.add("x");
    expect(q2.length).toBe(0);
    q2.done(x!);
    expect(q2.length).toBe(1);
    expect(await q2.get()).toBe("x");
    q2.done("x");
    expect(q2.length).toBe(0);
    q.shutDown();
  });

  test("two workers never hold the same key", async () => {
    const q = new RateLimitingQueue<string>(noBucket);
    const holding = new Set<string>();
    let overlaps = 0;
    let processed = 0;
    const worker = async () => {
      for (;;) {
        const k = await q.get();
        if (k === undefined) return;
        if (holding.has(k)) overlaps++;
        holding.add(k);
        await new Promise((r) => setTimeout(r, 1));
        if (processed++ < 40) q.add(k); // re-added while being processed
        holding.delete(k);
        q.done(k);
      }
    };
    q.add("a");
    q.add("b");
    const workers = [worker(), worker(), worker()];
    while (processed < 40) await new Promise((r) => setTimeout(r, 5));
    q.shutDown();
    await Promise.all(workers);
    expect(overlaps).toBe(0);
    expect(processed).toBeGreaterThanOrEqual(40);
  });

  test("get waits for a key and wakes on add", async () => {
    const q = new RateLimitingQueue(noBucket);
    const p = q.get();
    expect(await settledWithin(p, 20)).toBe("pending");
    q.add("late");
    expect(await settledWithin(p, 20)).toBe("late");
  });

  test("addAfter delays the key; the earlier of two delays wins", async () => {
    const q = new RateLimitingQueue(noBucket);
    q.addAfter("a", 40);
    expect(q.length).toBe(0);
    q.addAfter("a", 500); // later: ignored
    q.addAfter("b", 200);
    q.addAfter("b", 10); // earlier: replaces
    const t0 = performance.now();
    expect(await q.get()).toBe("b");
    expect(await q.get()).toBe("a");
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(35);
    expect(took).toBeLessThan(400);
    q.addAfter("now", 0);
    expect(q.length).toBe(1);
    q.shutDown();
  });

  test("many delayed keys come out once each, in due order, from one timer's wake-ups", async () => {
    const q = new RateLimitingQueue(noBucket);
    // 200 keys at 1–60 ms in a scrambled order; every third is re-added later (ignored), every fifth earlier (wins).
    const due = new Map<string, number>(); // when each key is due (performance.now() ms)
    for (let i = 0; i < 200; i++) {
      const key = `k${i}`;
      const ms = 1 + ((i * 37) % 60);
      const now = performance.now();
      q.addAfter(key, ms);
      due.set(key, now + ms);
      if (i % 3 === 0) q.addAfter(key, ms + 100);
      if (i % 5 === 0) {
        const earlier = Math.max(1, ms - 30);
        const at = performance.now();
        q.addAfter(key, earlier);
        due.set(key, Math.min(due.get(key)!, at + earlier));
      }
    }
    const got: { key: string; at: number }[] = [];
    while (got.length < 200) {
      const key = (await q.get())!;
      got.push({ key, at: performance.now() });
      q.done(key);
    }
    expect(new Set(got.map((g) => g.key)).size).toBe(200);
    for (const g of got) expect(g.at).toBeGreaterThanOrEqual(due.get(g.key)! - 1.5);
    // Handed out in due order (within the timer's 1 ms of slack).
    for (let i = 1; i < got.length; i++) expect(due.get(got[i]!.key)!).toBeGreaterThanOrEqual(due.get(got[i - 1]!.key)! - 1.5);
    // Nothing comes out twice, even where a later addAfter was ignored.
    await new Promise((r) => setTimeout(r, 170));
    expect(q.length).toBe(0);
    q.shutDown();
  });

  test("addRateLimited backs off exponentially per key until forget", async () => {
    const q = new RateLimitingQueue({ baseDelayMs: 20, maxDelayMs: 80, bucket: false });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      q.addRateLimited("k");
      const k = await q.get();
      delays.push(performance.now() - t0);
      q.done(k!);
    }
    expect(q.numRequeues("k")).toBe(4);
    // 20, 40, 80, 80 (capped), with timer slack.
    expect(delays[0]!).toBeGreaterThanOrEqual(15);
    expect(delays[1]!).toBeGreaterThanOrEqual(35);
    expect(delays[2]!).toBeGreaterThanOrEqual(75);
    expect(delays[3]!).toBeLessThan(160);
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    q.forget("k");
    expect(q.numRequeues("k")).toBe(0);
    const t0 = performance.now();
    q.addRateLimited("k");
    await q.get();
    expect(performance.now() - t0).toBeLessThan(60);
    q.shutDown();
  });

  test("shutDown drains queued keys, then get resolves undefined; pending delays are dropped", async () => {
    const q = new RateLimitingQueue(noBucket);
    const waiting = new RateLimitingQueue(noBucket);
    const blocked = waiting.get();
    waiting.shutDown();
    expect(await settledWithin(blocked, 50)).toBeUndefined();

    q.add("a");
    q.add("b");
    q.addAfter("later", 20);
    q.shutDown();
    q.add("c");
    q.addRateLimited("d");
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(await q.get()).toBeUndefined();
    await new Promise((r) => setTimeout(r, 40));
    expect(q.length).toBe(0);
    expect(await q.get()).toBeUndefined();
  });
});

describe("rate limiters", () => {
  test("exponential per key: 5 ms doubling, capped; keys are independent", () => {
    const r = new ExponentialFailureRateLimiter<string>(5, 1000_000);
    expect([r.when("a"), r.when("a"), r.when("a"), r.when("b")]).toEqual([5, 10, 20, 5]);
    for (let i = 0; i < 40; i++) r.when("a");
    expect(r.when("a")).toBe(1000_000);
    r.forget("a");
    expect(r.when("a")).toBe(5);
  });

  test("the token bucket allows a burst, then paces at qps", () => {
    let now = 0;
    const b = new BucketRateLimiter<string>(10, 2, () => now);
    expect([b.when("x"), b.when("y"), b.when("z"), b.when("w")]).toEqual([0, 0, 100, 200]);
    now = 1000; // 10 tokens refilled: the debt of 2 is paid and the bucket is full again
    expect(b.when("v")).toBe(0);
  });

  test("max-of takes the longest delay", () => {
    let now = 0;
    const r = new MaxOfRateLimiter<string>(new ExponentialFailureRateLimiter(5, 1000), new BucketRateLimiter(1, 1, () => now));
    expect(r.when("a")).toBe(5);
    expect(r.when("b")).toBe(1000);
    expect(r.numRequeues("a")).toBe(1);
  });
});
