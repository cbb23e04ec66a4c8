/** @module The scheduling queue: ordering, backoff, event-driven requeueing, gates, in-flight events. */
import { describe, expect, test } from "bun:test";
import type { ClusterEvent } from "../../core/plugin/scheduler-framework.ts";
import { PodInfoImpl } from "./framework/pod-info.ts";
import { SchedulingQueue } from "./queue.ts";
import { makePod } from "./testing.ts";

function queue(o: { now?: () => number; events?: Record<string, ClusterEvent[] | undefined>; backoffMs?: number } = {}): SchedulingQueue {
  return new SchedulingQueue({
    initialBackoffMs: o.backoffMs ?? 1000,
    maxBackoffMs: 10_000,
    maxUnschedulableMs: 60_000,
    pluginEvents: new Map(Object.entries(o.events ?? { Fit: ["NodeAdd", "AssignedPodDelete"], Taints: ["NodeTaintChange"] })),
    ...(o.now ? { now: o.now } : {}),
  });
}
const pod = (name: string, o: Parameters<typeof makePod>[1] = {}) => new PodInfoImpl(makePod(name, o));

describe("SchedulingQueue", () => {
  test("highest priority first, then first in first out", () => {
    const q = queue();
    q.add(pod("low", { priority: 1 }));
    q.add(pod("a", { priority: 10 }));
    q.add(pod("b", { priority: 10 }));
    q.add(pod("zero"));
    expect([q.tryPop(), q.tryPop(), q.tryPop(), q.tryPop(), q.tryPop()].map((x) => x?.info.name)).toEqual(["a", "b", "low", "zero", undefined]);
    q.close();
  });

  test("pop waits for a pod; close releases it", async () => {
    const q = queue();
    const p = q.pop();
    q.add(pod("late"));
    expect((await p)?.info.name).toBe("late");
    const waiting = q.pop();
    q.close();
    expect(await waiting).toBeUndefined();
  });

  test("an unschedulable pod moves only on an event a rejecting plugin lists", () => {
    let now = 0;
    const q = queue({ now: () => now });
    q.add(pod("p"));
    const qp = q.tryPop()!;
    q.addUnschedulable(qp, q.schedulingCycle, ["Taints"]);
    now = 5000; // past its backoff
    q.moveOnEvent("NodeAdd");
    expect(q.location(qp.info.uid)).toBe("unschedulable");
    q.moveOnEvent("NodeTaintChange");
    expect(q.location(qp.info.uid)).toBe("active");
    q.close();
  });

  test("a pod that hit a plugin declaring no events moves on any event", () => {
    let now = 0;
    const q = queue({ now: () => now, events: { Custom: undefined } });
    q.add(pod("p"));
    const qp = q.tryPop()!;
    q.addUnschedulable(qp, q.schedulingCycle, ["Custom"]);
    now = 5000;
    q.moveOnEvent("NamespaceChange");
    expect(q.location(qp.info.uid)).toBe("active");
    q.close();
  });

  test("moved while its backoff lasts → backoff, then active when it ends", async () => {
    const q = queue({ backoffMs: 20 });
    q.add(pod("p"));
    const qp = q.tryPop()!;
    q.addUnschedulable(qp, q.schedulingCycle, ["Fit"]);
    q.moveOnEvent("NodeAdd");
    expect(q.location(qp.info.uid)).toBe("backoff");
    const next = await q.pop();
    expect(next?.info.name).toBe("p");
    expect(next?.attempts).toBe(2);
    q.close();
  });

  test("backoff doubles per attempt up to the maximum", () => {
    const q = queue();
    expect([1, 2, 3, 4, 5, 6].map((a) => q.backoffMs(a))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    q.close();
  });

  test("an event during the pod's cycle sends it to backoff instead of unschedulable", () => {
    const q = queue();
    q.add(pod("p"));
    const qp = q.tryPop()!;
    const cycle = q.schedulingCycle;
    q.moveOnEvent("NodeAdd"); // e.g. a node arrived while the pod was being filtered
    q.addUnschedulable(qp, cycle, ["Fit"]);
    expect(q.location(qp.info.uid)).toBe("backoff");
    q.close();
  });

  test("gated pods wait until an update removes the gates", () => {
    const q = queue();
    const gated = makePod("g");
    (gated.spec as Record<string, unknown>).schedulingGates = [{ name: "example.com/wait" }];
    q.add(new PodInfoImpl(gated));
    expect(q.tryPop()).toBeUndefined();
    expect(q.location(gated.metadata.uid!)).toBe("gated");
    const open = structuredClone(gated);
    delete (open.spec as Record<string, unknown>).schedulingGates;
    q.update(new PodInfoImpl(open), true);
    expect(q.tryPop()?.info.name).toBe("g");
    q.close();
  });

  test("a spec change retries an unschedulable pod; a status-only change does not", () => {
    let now = 0;
    const q = queue({ now: () => now });
    const p = pod("p");
    q.add(p);
    q.addUnschedulable(q.tryPop()!, q.schedulingCycle, ["Fit"]);
    now = 5000;
    q.update(p, false);
    expect(q.location(p.uid)).toBe("unschedulable");
    q.update(p, true);
    expect(q.location(p.uid)).toBe("active");
    q.close();
  });

  test("deleted pods leave every place; unschedulable pods are flushed after the maximum wait", () => {
    let now = 0;
    const q = queue({ now: () => now });
    const a = pod("a");
    const b = pod("b");
    q.add(a);
    q.add(b);
    q.delete(a.uid);
    const qp = q.tryPop()!;
    expect(qp.info.name).toBe("b");
    q.addUnschedulable(qp, q.schedulingCycle, ["Fit"]);
    now = 59_000;
    q.flushUnschedulable();
    expect(q.location(b.uid)).toBe("unschedulable");
    now = 61_000;
    q.flushUnschedulable();
    expect(q.location(b.uid)).toBe("active");
    expect(q.location(a.uid)).toBeUndefined();
    q.close();
  });
});
