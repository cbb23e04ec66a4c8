/** @module NodeResourcesFit (filter, LeastAllocated/MostAllocated score) and BalancedAllocation, table-driven. */
import { describe, expect, test } from "bun:test";
import { cluster, filterAll, makeNode, makePod, scoreAll } from "../testing.ts";
import { balancedAllocation, nodeResourcesFit } from "./node-resources.ts";

describe("NodeResourcesFit filter", () => {
  const nodes = [makeNode("small", { cpu: "1", memory: "1Gi", pods: 2 }), makeNode("big", { cpu: "8", memory: "16Gi", extra: { "example.com/gpu": "1" } })];
  const existing = [makePod("e1", { nodeName: "small", cpu: "500m", memory: "512Mi" }), makePod("e2", { nodeName: "big", cpu: "6" })];
  const cases: { name: string; pod: ReturnType<typeof makePod>; want: Record<string, string[] | undefined> }[] = [
    { name: "fits both", pod: makePod("p", { cpu: "100m", memory: "100Mi" }), want: { small: undefined, big: undefined } },
    { name: "cpu short on small", pod: makePod("p", { cpu: "600m" }), want: { small: ["Insufficient cpu"], big: undefined } },
    { name: "cpu short on both", pod: makePod("p", { cpu: "3" }), want: { small: ["Insufficient cpu"], big: ["Insufficient cpu"] } },
    { name: "cpu and memory reported together", pod: makePod("p", { cpu: "600m", memory: "600Mi" }), want: { small: ["Insufficient cpu", "Insufficient memory"], big: undefined } },
    { name: "extended resource", pod: makePod("p", { extra: { "example.com/gpu": "1" } }), want: { small: ["Insufficient example.com/gpu"], big: undefined } },
    { name: "extended resource over capacity", pod: makePod("p", { extra: { "example.com/gpu": "2" } }), want: { small: ["Insufficient example.com/gpu"], big: ["Insufficient example.com/gpu"] } },
    { name: "best-effort pod only needs a pod slot", pod: makePod("p"), want: { small: undefined, big: undefined } },
    {
      name: "init container larger than the containers decides",
      pod: makePod("p", { cpu: "100m", initContainers: [{ name: "i", image: "i", resources: { requests: { cpu: "700m" } } }] }),
      want: { small: ["Insufficient cpu"], big: undefined },
    },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const got = filterAll([nodeResourcesFit()], tc.pod, cluster(nodes, existing));
      for (const [node, reasons] of Object.entries(tc.want)) {
        if (reasons === undefined) expect(got[node]).toBeUndefined();
        else expect(got[node]).toEqual({ code: "Unschedulable", reasons });
      }
    });
  }

  test("too many pods", () => {
    const c = cluster(nodes, [...existing, makePod("e3", { nodeName: "small" })]);
    expect(filterAll([nodeResourcesFit()], makePod("p"), c).small).toEqual({ code: "Unschedulable", reasons: ["Too many pods"] });
  });

  test("ignored extended resources are not checked", () => {
    const got = filterAll([nodeResourcesFit({ ignoredResources: ["example.com/gpu"] })], makePod("p", { extra: { "example.com/gpu": "5" } }), cluster(nodes));
    expect(got.small).toBeUndefined();
  });
});

describe("NodeResourcesFit score", () => {
  // Upstream's least_allocated_test "nothing scheduled, resources requested, differently sized nodes":
  // node1 4000m/10000 bytes, node2 6000m/10000; pod 3000m/5000 → node1 (25+50)/2=37, node2 (50+50)/2=50.
  test("LeastAllocated", () => {
    const nodes = [makeNode("node1", { cpu: "4000m", memory: "10000" }), makeNode("node2", { cpu: "6000m", memory: "10000" })];
    const pod = makePod("p", { containers: [{ name: "a", image: "i", resources: { requests: { cpu: "1000m", memory: "2000" } } }, { name: "b", image: "i", resources: { requests: { cpu: "2000m", memory: "3000" } } }] });
    expect(scoreAll(nodeResourcesFit(), pod, cluster(nodes))).toEqual({ node1: 37, node2: 50 });
  });

  test("LeastAllocated counts existing pods with non-zero defaults", () => {
    const nodes = [makeNode("a", { cpu: "1", memory: "1Gi" }), makeNode("b", { cpu: "1", memory: "1Gi" })];
    // A best-effort pod on "a" still counts 100m / 200Mi when scoring.
    const s = scoreAll(nodeResourcesFit(), makePod("p", { cpu: "100m", memory: "100Mi" }), cluster(nodes, [makePod("e", { nodeName: "a" })]));
    expect(s.b).toBeGreaterThan(s.a!);
    expect(s).toEqual({ a: Math.trunc((80 + Math.trunc((1024 - 300) * 100 / 1024)) / 2), b: Math.trunc((90 + Math.trunc((1024 - 100) * 100 / 1024)) / 2) });
  });

  test("MostAllocated prefers the fuller node", () => {
    const nodes = [makeNode("a", { cpu: "4", memory: "4Gi" }), makeNode("b", { cpu: "4", memory: "4Gi" })];
    const s = scoreAll(nodeResourcesFit({ scoringStrategy: "MostAllocated" }), makePod("p", { cpu: "1", memory: "1Gi" }), cluster(nodes, [makePod("e", { nodeName: "a", cpu: "2", memory: "2Gi" })]));
    expect(s).toEqual({ a: 75, b: 25 });
  });
});

describe("NodeResourcesBalancedAllocation", () => {
  test.each([
    // fractions after adding the pod: a cpu 0.5 mem 0.5 → 100; b cpu 0.75 mem 0.25 → (1-0.25)*100 = 75
    ["balanced beats lopsided", { a: 100, b: 75 }],
  ])("%s", (_n, want) => {
    const nodes = [makeNode("a", { cpu: "4", memory: "4Gi" }), makeNode("b", { cpu: "4", memory: "4Gi" })];
    const existing = [makePod("e", { nodeName: "b", cpu: "2" })];
    expect(scoreAll(balancedAllocation(), makePod("p", { cpu: "1", memory: "1Gi" }), cluster(nodes, existing))).toEqual(
      Object.fromEntries(Object.entries(want).map(([k, v]) => [k, v])),
    );
    // recompute b: cpu (2+1)/4 = .75, mem 1/4 = .25 → std .25 → 75
  });

  test("fractions are capped at 1", () => {
    const nodes = [makeNode("a", { cpu: "1", memory: "1Gi" })];
    expect(scoreAll(balancedAllocation(), makePod("p", { cpu: "2", memory: "512Mi" }), cluster(nodes))).toEqual({ a: 75 });
  });

  test("skipped for a pod requesting neither cpu nor memory", () => {
    const nodes = [makeNode("a"), makeNode("b")];
    expect(scoreAll(balancedAllocation(), makePod("p"), cluster(nodes))).toEqual({ a: 0, b: 0 });
  });
});
