/**
 * @module The scheduler against an in-memory cluster (FakeCluster): binding,
 * failure messages and conditions, event-driven requeueing, schedulerName,
 * sampling, preemption, the Reserve/Permit/Bind points, and placement
 * quality over mixed pods.
 */
import { describe, expect, test } from "bun:test";
import type { CycleState, PermitPlugin, PodInfo, ReservePlugin, ScorePlugin, BindPlugin, NodeInfo } from "../../core/plugin/scheduler-framework.ts";
import { CycleState as CycleStateImpl } from "./framework/cycle-state.ts";
import { FakeCluster, makeNode, makePod } from "./testing.ts";

function seeded(seed = 42): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe("scheduling and binding", () => {
  test("binds every pod through pods/binding and records Scheduled events", async () => {
    const fc = new FakeCluster();
    for (const n of ["n1", "n2", "n3"]) fc.addNode(makeNode(n));
    for (let i = 0; i < 9; i++) fc.addPod(makePod(`p${i}`, { cpu: "500m", memory: "256Mi" }));
    fc.start();
    await fc.runUntil(() => fc.bindings.length === 9);
    const perNode = new Map<string, number>();
    for (const b of fc.bindings) perNode.set(b.node, (perNode.get(b.node) ?? 0) + 1);
    expect([...perNode.values()].sort()).toEqual([3, 3, 3]); // LeastAllocated spreads evenly
    expect(fc.events.filter((e) => e.reason === "Scheduled")).toHaveLength(9);
    expect(fc.events.find((e) => e.reason === "Scheduled")!.message).toMatch(/^Successfully assigned default\/p\d to n\d$/);
  });

  test("pods for another schedulerName are left alone", async () => {
    const fc = new FakeCluster();
    fc.addNode(makeNode("n1"));
    fc.addPod(makePod("mine"));
    fc.addPod(makePod("theirs", { schedulerName: "other-scheduler" }));
    fc.start();
    await fc.runUntil(() => fc.bindings.length === 1);
    expect(fc.bindings[0]!.pod).toBe("default/mine");
    expect(fc.nodeOf("default/theirs")).toBeUndefined();
    expect(fc.events.some((e) => e.name === "theirs")).toBe(false);
  });

  test("a custom schedulerName schedules only its own pods", async () => {
    const fc = new FakeCluster();
    fc.addNode(makeNode("n1"));
    fc.addPod(makePod("mine", { schedulerName: "edge" }));
    fc.addPod(makePod("default"));
    fc.start({ schedulerName: "edge" });
    await fc.runUntil(() => fc.bindings.length === 1);
    expect(fc.bindings[0]!.pod).toBe("default/mine");
  });

  test("assumed pods count before their binding returns: no overcommit while bindings are in flight", async () => {
    const fc = new FakeCluster();
    fc.addNode(makeNode("n1", { cpu: "2" }));
    fc.addNode(makeNode("n2", { cpu: "2" }));
    for (let i = 0; i < 6; i++) fc.addPod(makePod(`p${i}`, { cpu: "1" }));
    fc.start();
    await fc.runUntil(() => fc.bindings.length === 4 && fc.scheduler.stats.unschedulable >= 2);
    expect(fc.bindings.filter((b) => b.node === "n1")).toHaveLength(2);
    expect(fc.bindings.filter((b) => b.node === "n2")).toHaveLength(2);
  });

  test("a failed binding is undone and retried", async () => {
    const fc = new FakeCluster();
    fc.addNode(makeNode("n1", { cpu: "1" }));
    fc.addPod(makePod("p", { cpu: "1" }));
    fc.failBindings = [new Error("etcd is on fire")];
    fc.start();
    await fc.runUntil(() => fc.bindings.length === 1);
    expect(fc.events.some((e) => e.reason === "FailedScheduling" && e.message.includes("etcd is on fire"))).toBe(true);
    expect(fc.nodeOf("default/p")).toBe("n1");
  });

  test("only the sampled share of nodes is filtered and scored, continuing where the last pod stopped", () => {
    const fc = new FakeCluster();
    for (let i = 0; i < 200; i++) fc.addNode(makeNode(`n${i}`));
    const s = fc.start({ percentageOfNodesToScore: 50 }, [], seeded());
    const place = (name: string) => {
      const r = s.schedulePod(new CycleStateImpl(), s.podInfo(makePod(name)));
      if (!("node" in r)) throw new Error("not placed");
      return { index: Number(r.node.slice(1)), evaluated: r.evaluated, feasible: r.feasible };
    };
    const a = place("a");
    const b = place("b");
    expect([a.evaluated, a.feasible, b.evaluated]).toEqual([100, 100, 100]);
    expect(a.index).toBeLessThan(100);
    expect(b.index).toBeGreaterThanOrEqual(100);
  });

  test("percentageOfNodesToScore samples nodes round-robin", () => {
    const fc = new FakeCluster();
    for (let i = 0; i < 1000; i++) fc.addNode(makeNode(`n${i}`));
    const s = fc.start({ percentageOfNodesToScore: 20 });
    expect(s.numFeasibleNodesToFind(1000)).toBe(200);
    expect(s.numFeasibleNodesToFind(50)).toBe(50);
    const adaptive = fc.start({ percentageOfNodesToScore: 0 });
    expect(adaptive.numFeasibleNodesToFind(5000)).toBe(500); // 50 − 5000/125 = 10 %
    expect(adaptive.numFeasibleNodesToFind(1000)).toBe(420); // 42 %
    expect(adaptive.numFeasibleNodesToFind(10_000)).toBe(500); // floor of 5 %
    expect(adaptive.numFeasibleNodesToFind(120)).toBe(100); // never fewer than 100
  });
});

describe("unschedulable pods", () => {
  test("PodScheduled=False and a FailedScheduling event with kube-scheduler's message", async () => {
    const fc = new FakeCluster();
    fc.addNode(makeNode("small1", { cpu: "1" }));
    fc.addNode(makeNode("small2", { cpu: "1" }));
    fc.addNode(makeNode("gpu", { cpu: "16", taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] }));
    fc.addPod(makePod("big", { cpu: "2" }));
    fc.start();
    await fc.runUntil(() => fc.condition("default/big")?.status === "False");
    const msg =
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. " +
      "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.";
    expect(fc.condition("default/big")).toMatchObject({ status: "False", reason: "Unschedulable", message: msg });
    const ev = fc.events.find((e) => e.reason === "FailedScheduling");
    expect(ev).toMatchObject({ name: "big", namespace: "default", type: "Warning", message: msg });
  });

  test("no nodes at all", async () => {
    const fc = new FakeCluster();
    fc.addPod(makePod("p"));
    fc.start();
    await fc.runUntil(() => fc.condition("default/p")?.status === "False");
    expect(fc.condition("default/p")?.message).toBe("no nodes available to schedule pods");
  });

  test("is scheduled as soon as a node is added (event-driven, not a timer)", async () => {
    const fc = new FakeCluster();
    fc.addNode(makeNode("tiny", { cpu: "500m" }));
    fc.addPod(makePod("p", { cpu: "1" }));
    fc.start({ podMaxInUnschedulablePodsSeconds: 3600, podInitialBackoffSeconds: 0.001, podMaxBackoffSeconds: 0.001 });
    const run = fc.run();
    try {
      await run.until(() => fc.scheduler.queue.location(fc.pods.get("default/p")!.metadata.uid!) === "unschedulable");
      // Nothing unrelated moves it: a label change on a node is not an event NodeResourcesFit listens to.
      fc.addNode(makeNode("tiny", { cpu: "500m", labels: { x: "y" } }));
      await new Promise((r) => setTimeout(r, 20));
      expect(fc.scheduler.stats.attempts).toBe(1);
      const t0 = performance.now();
      fc.addNode(makeNode("big", { cpu: "4" }));
      await run.until(() => fc.nodeOf("default/p") === "big");
      expect(performance.now() - t0).toBeLessThan(500);
    } finally {
      await run.stop();
    }
  });

  test("is scheduled when a pod holding the room is deleted", async () => {
    const fc = new FakeCluster();
    fc.addNode(makeNode("n1", { cpu: "1" }));
    fc.addPod(makePod("hog", { cpu: "1", nodeName: "n1", phase: "Running" }));
    fc.addPod(makePod("p", { cpu: "1" }));
    fc.start({ podMaxInUnschedulablePodsSeconds: 3600 });
    const run = fc.run();
    try {
      await run.until(() => fc.scheduler.stats.unschedulable === 1);
      fc.deletePod("default/hog");
      await run.until(() => fc.nodeOf("default/p") === "n1");
    } finally {
      await run.stop();
    }
  });
});

describe("preemption", () => {
  test("evicts the lowest-priority pods needed and nominates the node; the preemptor binds once they are gone", async () => {
    const fc = new FakeCluster();
    fc.addNode(makeNode("n1", { cpu: "2" }));
    fc.addNode(makeNode("n2", { cpu: "2" }));
    fc.addPod(makePod("low1", { cpu: "1", nodeName: "n1", priority: 10 }));
    fc.addPod(makePod("low2", { cpu: "1", nodeName: "n1", priority: 10 }));
    fc.addPod(makePod("mid1", { cpu: "1", nodeName: "n2", priority: 100 }));
    fc.addPod(makePod("low3", { cpu: "1", nodeName: "n2", priority: 10 }));
    fc.addPod(makePod("vip", { cpu: "1", priority: 1000 }));
    fc.start();
    await fc.runUntil(() => fc.nodeOf("default/vip") !== undefined);
    // n2 needs one victim of priority 10 (low3) and keeps mid1; n1 also needs only one. Ties: fewest victims, equal →
    // both have one victim of priority 10; either is valid, but exactly one pod was evicted.
    const evicted = ["low1", "low2", "low3"].filter((n) => !fc.pods.has(`default/${n}`));
    expect(evicted).toHaveLength(1);
    expect(fc.pods.has("default/mid1")).toBe(true);
    const victimNode = evicted[0] === "low3" ? "n2" : "n1";
    expect(fc.nodeOf("default/vip")).toBe(victimNode);
    expect(fc.events.some((e) => e.reason === "Preempted" && e.name === evicted[0])).toBe(true);
    expect(fc.scheduler.stats.preemptions).toBe(1);
  });

  test("prefers the node whose victims have the lowest priority", async () => {
    const fc = new FakeCluster();
    fc.addNode(makeNode("n1", { cpu: "1" }));
    fc.addNode(makeNode("n2", { cpu: "1" }));
    fc.addPod(makePod("a", { cpu: "1", nodeName: "n1", priority: 50 }));
    fc.addPod(makePod("b", { cpu: "1", nodeName: "n2", priority: 5 }));
    fc.addPod(makePod("vip", { cpu: "1", priority: 100 }));
    fc.start();
    await fc.runUntil(() => fc.nodeOf("default/vip") !== undefined);
    expect(fc.nodeOf("default/vip")).toBe("n2");
    expect(fc.pods.has("default/a")).toBe(true);
  });

  test("preemptionPolicy Never and equal priorities preempt nothing", async () => {
    const fc = new FakeCluster();
    fc.addNode(makeNode("n1", { cpu: "1" }));
    fc.addPod(makePod("same", { cpu: "1", nodeName: "n1", priority: 100 }));
    fc.addPod(makePod("never", { cpu: "1", priority: 1000, preemptionPolicy: "Never" }));
    fc.addPod(makePod("peer", { cpu: "1", priority: 100 }));
    fc.start();
    await fc.runUntil(() => fc.scheduler.stats.unschedulable >= 2);
    expect(fc.pods.has("default/same")).toBe(true);
    expect(fc.condition("default/never")?.message).toContain("preemption: not eligible due to preemptionPolicy=Never.");
    expect(fc.condition("default/peer")?.message).toContain("preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.");
  });

  test("a nominated pod keeps its room from lower-priority pods", async () => {
    const fc = new FakeCluster();
    fc.addNode(makeNode("n1", { cpu: "1" }));
    const vip = makePod("vip", { cpu: "1", priority: 1000, nominatedNodeName: "n1" });
    fc.addPod(vip);
    fc.addPod(makePod("small", { cpu: "500m", priority: 1 }));
    // The vip is nominated but waits (a pretend terminating victim); the small pod must not take n1.
    fc.start({ disabledPlugins: [] });
    fc.scheduler.queue.delete(vip.metadata.uid!);
    await fc.runUntil(() => fc.scheduler.stats.unschedulable >= 1);
    expect(fc.nodeOf("default/small")).toBeUndefined();
  });
});

describe("extension points", () => {
  test("a Score plugin with a weight changes placement", async () => {
    const preferLabel: ScorePlugin = {
      name: "PreferFast",
      weight: 10,
      score: (_s: CycleState, _p: PodInfo, n: NodeInfo) => (n.labels.speed === "fast" ? 100 : 0),
    };
    const fc = new FakeCluster();
    fc.addNode(makeNode("slow", { cpu: "8" }));
    fc.addNode(makeNode("fast", { cpu: "2", labels: { speed: "fast" } }));
    fc.addPod(makePod("p", { cpu: "1" }));
    fc.start({}, [preferLabel]);
    await fc.runUntil(() => fc.bindings.length === 1);
    expect(fc.nodeOf("default/p")).toBe("fast");
  });

  test("Reserve failure unreserves and retries; Permit Wait holds the pod until allowed", async () => {
    const log: string[] = [];
    let failOnce = true;
    const reserve: ReservePlugin = {
      name: "R",
      reserve: (_s, p, n) => {
        log.push(`reserve ${p.name} ${n}`);
        if (failOnce) {
          failOnce = false;
          return { code: "Error", reasons: ["not yet"] };
        }
        return undefined;
      },
      unreserve: (_s, p) => void log.push(`unreserve ${p.name}`),
    };
    const permit: PermitPlugin = { name: "Gate", permit: () => ({ code: "Wait", timeoutMs: 5000 }) };
    const fc = new FakeCluster();
    fc.addNode(makeNode("n1"));
    fc.addPod(makePod("p"));
    fc.start({}, [reserve, permit]);
    const run = fc.run();
    try {
      await run.until(() => fc.scheduler.waitingPods().length === 1);
      expect(log).toEqual(["reserve p n1", "unreserve p", "reserve p n1"]);
      expect(fc.bindings).toHaveLength(0);
      const w = fc.scheduler.waitingPods()[0]!;
      expect(w.pendingPlugins()).toEqual(["Gate"]);
      w.allow("Gate");
      await run.until(() => fc.bindings.length === 1);
    } finally {
      await run.stop();
    }
  });

  test("a Permit rejection or timeout sends the pod back", async () => {
    const permit: PermitPlugin = { name: "Slow", permit: () => ({ code: "Wait", timeoutMs: 1 }) };
    const fc = new FakeCluster();
    fc.addNode(makeNode("n1"));
    fc.addPod(makePod("p"));
    fc.start({}, [permit]);
    await fc.runUntil(() => fc.events.some((e) => e.reason === "FailedScheduling" && e.message.includes("timeout")));
    expect(fc.bindings).toHaveLength(0);
  });

  test("an installed Bind plugin runs before the default binder; Skip falls through", async () => {
    const seen: string[] = [];
    const bind: BindPlugin = {
      name: "Custom",
      bind: async (_s, p, n) => {
        seen.push(`${p.name}→${n}`);
        return p.name === "skip-me" ? { code: "Skip" } : { code: "Error", reasons: ["custom binder refused"] };
      },
    };
    const fc = new FakeCluster();
    fc.addNode(makeNode("n1"));
    fc.addPod(makePod("skip-me"));
    fc.start({}, [bind]);
    await fc.runUntil(() => fc.bindings.length === 1);
    expect(seen).toEqual(["skip-me→n1"]);
  });

  test("a throwing plugin becomes an Error status, not a crash", async () => {
    const bad: ScorePlugin = {
      name: "Broken",
      score: () => {
        throw new Error("boom");
      },
    };
    const fc = new FakeCluster();
    fc.addNode(makeNode("n1"));
    fc.addNode(makeNode("n2"));
    fc.addPod(makePod("p"));
    fc.start({}, [bad]);
    await fc.runUntil(() => fc.condition("default/p")?.reason === "SchedulerError");
    expect(fc.condition("default/p")?.message).toBe("Broken: boom");
  });

  test("disabledPlugins removes a default plugin", async () => {
    const fc = new FakeCluster();
    fc.addNode(makeNode("tainted", { taints: [{ key: "k", value: "v", effect: "NoSchedule" }] }));
    fc.addPod(makePod("p"));
    fc.start({ disabledPlugins: ["TaintToleration"] });
    await fc.runUntil(() => fc.bindings.length === 1);
    expect(fc.nodeOf("default/p")).toBe("tainted");
  });
});

describe("placement quality", () => {
  // 10 heterogeneous nodes (1–16 cpu, 2–64 Gi; 73 cpu in all) and 100 pods of five shapes
  // asking for 52 cpu (71 %). Bound stated here: every pod placed, no node over its
  // allocatable (cpu, memory, pods), every node's cpu utilisation within 0.25 of the
  // cluster-wide 0.71, and max − min utilisation below 0.35. Over 100 seeds the worst seen
  // was 0.21 and 0.30 (the 1-cpu node moves in steps of 10–100 %).
  test("100 mixed pods on 10 heterogeneous nodes", async () => {
    const fc = new FakeCluster();
    const shapes = [
      ["1", "2Gi"], ["2", "4Gi"], ["2", "8Gi"], ["4", "8Gi"], ["4", "16Gi"],
      ["8", "16Gi"], ["8", "32Gi"], ["12", "32Gi"], ["16", "32Gi"], ["16", "64Gi"],
    ] as const;
    shapes.forEach(([cpu, mem], i) => fc.addNode(makeNode(`n${i}`, { cpu, memory: mem })));
    const totalMilli = shapes.reduce((s, [c]) => s + Number(c) * 1000, 0);
    const podShapes = [
      { cpu: "100m", memory: "128Mi" },
      { cpu: "250m", memory: "512Mi" },
      { cpu: "500m", memory: "1Gi" },
      { cpu: "1", memory: "1Gi" },
      { cpu: "750m", memory: "3Gi" },
    ];
    const milli = (q: string) => (q.endsWith("m") ? Number(q.slice(0, -1)) : Number(q) * 1000);
    const mebi = (q: string) => Number(q.slice(0, -2)) * (q.endsWith("Gi") ? 1024 : 1);
    let requested = 0;
    for (let i = 0; i < 100; i++) {
      const s = podShapes[i % podShapes.length]!;
      requested += milli(s.cpu);
      fc.addPod(makePod(`p${i}`, s));
    }
    const clusterUtil = requested / totalMilli;
    expect(clusterUtil).toBeCloseTo(0.71, 2);
    fc.start({}, [], seeded());
    await fc.runUntil(() => fc.bindings.length === 100);
    const used = new Map<string, { cpu: number; mem: number; pods: number }>();
    for (const b of fc.bindings) {
      const s = podShapes[Number(b.pod.slice("default/p".length)) % podShapes.length]!;
      const u = used.get(b.node) ?? { cpu: 0, mem: 0, pods: 0 };
      u.cpu += milli(s.cpu);
      u.mem += mebi(s.memory);
      u.pods++;
      used.set(b.node, u);
    }
    const utils: number[] = [];
    shapes.forEach(([cpu, mem], i) => {
      const u = used.get(`n${i}`) ?? { cpu: 0, mem: 0, pods: 0 };
      expect(u.cpu).toBeLessThanOrEqual(milli(cpu));
      expect(u.mem).toBeLessThanOrEqual(mebi(mem));
      expect(u.pods).toBeLessThanOrEqual(110);
      utils.push(u.cpu / milli(cpu));
    });
    for (const u of utils) expect(Math.abs(u - clusterUtil)).toBeLessThan(0.25);
    expect(Math.max(...utils) - Math.min(...utils)).toBeLessThan(0.35);
  });
});
