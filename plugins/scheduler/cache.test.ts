/** @module The scheduler cache: assume/confirm/forget, placeholder nodes, zone interleaving, affinity indexes, node events. */
import { describe, expect, test } from "bun:test";
import { SchedulerCache } from "./cache.ts";
import { fitErrorMessage } from "./framework/fit-error.ts";
import { info, makeNode, makePod } from "./testing.ts";

describe("SchedulerCache", () => {
  test("an assumed pod counts at once; confirming keeps it once; forgetting a confirmed pod does nothing", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("n1", { cpu: "2" }));
    const pod = makePod("p", { cpu: "1" });
    const p = info(pod);
    c.assumePod(p, "n1");
    expect(c.get("n1")!.requested.milliCPU).toBe(1000);
    expect(c.isAssumed(p.uid)).toBe(true);
    const boundPod = structuredClone(pod);
    (boundPod.spec as Record<string, unknown>).nodeName = "n1";
    c.addPod(info(boundPod));
    expect(c.isAssumed(p.uid)).toBe(false);
    expect(c.get("n1")!.pods).toHaveLength(1);
    expect(c.get("n1")!.requested.milliCPU).toBe(1000);
    c.forgetPod(p.uid);
    expect(c.get("n1")!.pods).toHaveLength(1);
  });

  test("forgetting an assumed pod gives its resources back", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("n1"));
    const p = info(makePod("p", { cpu: "1", hostPorts: [80] }));
    c.assumePod(p, "n1");
    expect(c.get("n1")!.portInUse({ protocol: "TCP", hostIP: "0.0.0.0", port: 80 })).toBe(true);
    c.forgetPod(p.uid);
    expect(c.get("n1")!.requested.milliCPU).toBe(0);
    expect(c.get("n1")!.portInUse({ protocol: "TCP", hostIP: "0.0.0.0", port: 80 })).toBe(false);
    expect(c.hasPod(p.uid)).toBe(false);
  });

  test("pods of an unknown node wait on a placeholder that is not listed until the node arrives", () => {
    const c = new SchedulerCache();
    c.addPod(info(makePod("early", { nodeName: "late", cpu: "1" })));
    expect(c.list()).toHaveLength(0);
    expect(c.get("late")).toBeUndefined();
    expect(c.setNode(makeNode("late"))).toEqual(["NodeAdd"]);
    expect(c.get("late")!.requested.milliCPU).toBe(1000);
    c.removeNode("late");
    expect(c.list()).toHaveLength(0);
  });

  test("node updates report what changed", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("n", { cpu: "2" }));
    expect(c.setNode(makeNode("n", { cpu: "2" }))).toEqual([]);
    expect(c.setNode(makeNode("n", { cpu: "4", labels: { a: "b" } }))).toEqual(["NodeLabelChange", "NodeAllocatableChange"]);
    expect(c.setNode(makeNode("n", { cpu: "4", labels: { a: "b" }, unschedulable: true, taints: [{ key: "k", effect: "NoSchedule" }] }))).toEqual([
      "NodeTaintChange",
      "NodeUnschedulableChange",
    ]);
  });

  test("nodes are listed with zones interleaved", () => {
    const c = new SchedulerCache();
    for (const [n, z] of [["a1", "a"], ["a2", "a"], ["a3", "a"], ["b1", "b"], ["c1", "c"], ["c2", "c"]]) {
      c.setNode(makeNode(n!, { labels: { "topology.kubernetes.io/zone": z! } }));
    }
    expect(c.list().map((n) => n.name)).toEqual(["a1", "b1", "c1", "a2", "c2", "a3"]);
  });

  test("nodes holding pods with affinity are indexed", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("n1"));
    c.setNode(makeNode("n2"));
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { a: "b" } }, topologyKey: "zone" }] } };
    const p = info(makePod("p", { nodeName: "n2", affinity: anti }));
    c.addPod(p);
    expect(c.havePodsWithAffinity().map((n) => n.name)).toEqual(["n2"]);
    expect(c.havePodsWithRequiredAntiAffinity().map((n) => n.name)).toEqual(["n2"]);
    c.removePod(p.uid);
    expect(c.havePodsWithRequiredAntiAffinity()).toEqual([]);
  });

  test("nominated pods by node", () => {
    const c = new SchedulerCache();
    const p = info(makePod("p"));
    c.setNominated(p, "n1");
    expect([...(c.nominatedPods("n1") ?? [])].map((x) => x.name)).toEqual(["p"]);
    c.setNominated(p, "n2");
    expect(c.nominatedPods("n1")).toBeUndefined();
    c.clearNominated(p.uid);
    expect(c.hasNominatedPods()).toBe(false);
  });
});

describe("fitErrorMessage", () => {
  test("counts reasons over nodes and sorts them as upstream (as strings)", () => {
    const m = new Map([
      ["a", { code: "Unschedulable" as const, reasons: ["Insufficient cpu", "Insufficient memory"] }],
      ["b", { code: "Unschedulable" as const, reasons: ["Insufficient cpu"] }],
      ["c", { code: "UnschedulableAndUnresolvable" as const, reasons: ["node(s) had untolerated taint {k: v}"] }],
    ]);
    expect(fitErrorMessage(3, m)).toBe("0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu.");
    expect(fitErrorMessage(3, m, "no dice")).toBe("0/3 nodes are available: no dice.");
    expect(fitErrorMessage(3, m, undefined, "preemption: x.")).toMatch(/ preemption: x\.$/);
  });
});
