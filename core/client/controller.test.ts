import { describe, expect, test } from "bun:test";
import pino from "pino";
import { ApiError } from "../api/errors.ts";
import { Controller, keyOf, splitKey, TerminalError } from "./controller.ts";
import type { ReconcileResult, Reconciler } from "./types.ts";
import { RateLimitingQueue } from "./work-queue.ts";

/** Polls `cond` every few ms until true, failing after `ms`. */
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 2));
  }
}

function reconciler(fn: (key: string, signal: AbortSignal) => Promise<ReconcileResult | void>): Reconciler {
  return { name: "test-reconciler", reconcile: fn };
}

/** A logger that keeps its JSON lines. */
function capture(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

const quiet = pino({ level: "silent" });

const fastQueue = () => new RateLimitingQueue<string>({ baseDelayMs: 1, bucket: false });

describe("Controller", () => {
  test("a throw is retried with backoff until it succeeds, then the backoff is forgotten", async () => {
    const calls: number[] = [];
    const queue = fastQueue();
    const { log, lines } = capture();
    const c = new Controller(
      reconciler(async () => {
        calls.push(performance.now());
        if (calls.length < 4) throw new ApiError({ reason: "InternalError", message: "boom" });
      }),
      { queue, log },
    );
    c.start();
    c.queue.add("ns/a");
    await until(() => calls.length === 4);
    await until(() => queue.numRequeues("ns/a") === 0);
    // Backoff grows: 1, 2, 4 ms between attempts (at least).
    const gaps = calls.slice(1).map((t, i) => t - calls[i]!);
    expect(gaps[2]!).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 30));
    expect(calls.length).toBe(4);
    const failures = lines.filter((l) => l.msg === "reconcile failed");
    expect(failures.length).toBe(3);
    expect(failures[0]).toMatchObject({ controller: "test-reconciler", key: "ns/a", err: "boom", reason: "InternalError", level: 50 });
    expect(failures.map((f) => f.requeues)).toEqual([0, 1, 2]);
    await c.stop();
  });

  test("requeueAfter reconciles the key again later", async () => {
    const at: number[] = [];
    const c = new Controller(
      reconciler(async () => {
        at.push(performance.now());
        return at.length === 1 ? { requeueAfter: 50 } : {};
      }),
      { queue: fastQueue() },
    );
    c.start();
    c.queue.add("k");
    await until(() => at.length === 2);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(45);
    await new Promise((r) => setTimeout(r, 80));
    expect(at.length).toBe(2);
    await c.stop();
  });

  test("a TerminalError is not retried", async () => {
    let calls = 0;
    const queue = fastQueue();
    const c = new Controller(
      reconciler(async () => {
        calls++;
        throw new TerminalError("bad spec");
      }),
      { queue, log: quiet },
    );
    c.start();
    c.queue.add("k");
    await until(() => calls === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toBe(1);
    expect(queue.numRequeues("k")).toBe(0);
    await c.stop();
  });

  test("stop aborts the signal and waits for the keys being reconciled", async () => {
    let finished = false;
    let sawAbort = false;
    let started = false;
    const c = new Controller(
      reconciler(async (_key, signal) => {
        started = true;
        await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
        sawAbort = signal.aborted;
        await new Promise((r) => setTimeout(r, 40));
        finished = true;
      }),
      { queue: fastQueue() },
    );
    c.start();
    c.queue.add("slow");
    c.queue.add("never");
    await until(() => started);
    await c.stop();
    expect(sawAbort).toBe(true);
    expect(finished).toBe(true);
  });

  test("workers run keys in parallel but never one key twice at once", async () => {
    const active = new Set<string>();
    let maxParallel = 0;
    let overlap = false;
    let done = 0;
    const c = new Controller(
      reconciler(async (key) => {
        if (active.has(key)) overlap = true;
        active.add(key);
        maxParallel = Math.max(maxParallel, active.size);
        await new Promise((r) => setTimeout(r, 5));
        active.delete(key);
        done++;
      }),
      { workers: 4, queue: fastQueue() },
    );
    c.start();
    for (let round = 0; round < 5; round++) {
      for (const k of ["a", "b", "c", "d"]) c.queue.add(k);
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => done >= 8 && c.queue.length === 0 && active.size === 0);
    await c.stop();
    expect(overlap).toBe(false);
    expect(maxParallel).toBeGreaterThan(1);
    expect(maxParallel).toBeLessThanOrEqual(4);
  });
});

describe("keys", () => {
  test("keyOf and splitKey", () => {
    expect(keyOf({ metadata: { name: "p", namespace: "ns" } })).toBe("ns/p");
    expect(keyOf({ metadata: { name: "n1" } })).toBe("n1");
    expect(splitKey("ns/p")).toEqual({ namespace: "ns", name: "p" });
    expect(splitKey("n1")).toEqual({ namespace: "", name: "n1" });
    expect(() => splitKey("a/b/c")).toThrow("unexpected key format");
  });
});
