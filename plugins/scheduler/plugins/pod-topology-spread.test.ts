/** @module PodTopologySpread: DoNotSchedule filtering (maxSkew, minDomains, policies) and ScheduleAnyway scoring. */
import { describe, expect, test } from "bun:test";
import { CycleState } from "../framework/cycle-state.ts";
import { Framework } from "../framework/runtime.ts";
import { cluster, filterAll, info, makeNode, makePod, scoreAll } from "../testing.ts";
import { pluginSet } from "./index.ts";
import { ERR_CONSTRAINTS, ERR_MISSING_LABEL, podTopologySpread } from "./pod-topology-spread.ts";

const zone = (z: string, name: string, extra: Record<string, string> = {}) => makeNode(name, { labels: { zone: z, ...extra } });
const app = (name: string, nodeName?: string, labels: Record<string, string> = { app: "web" }) => makePod(name, { labels, ...(nodeName ? { nodeName } : {}) });
const spread = (o: Record<string, unknown> = {}) => ({
  maxSkew: 1,
  topologyKey: "zone",
  whenUnsatisfiable: "DoNotSchedule",
  labelSelector: { matchLabels: { app: "web" } },
  ...o,
});
const reject = { code: "Unschedulable" as const, reasons: [ERR_CONSTRAINTS] };

describe("PodTopologySpread filter", () => {
  // zone1: n1 (2 web pods), zone2: n2 (1 web pod), zone3: n3 (none)
  const nodes = [zone("z1", "n1"), zone("z2", "n2"), zone("z3", "n3"), makeNode("nolabel")];
  const pods = [app("w1", "n1"), app("w2", "n1"), app("w3", "n2"), app("other", "n3", { app: "db" })];
  const cases: { name: string; constraint: Record<string, unknown>; labels?: Record<string, string>; want: Record<string, unknown> }[] = [
    {
      name: "maxSkew 1: only the emptiest zone",
      constraint: {},
      want: { n1: reject, n2: reject, n3: undefined, nolabel: { code: "UnschedulableAndUnresolvable", reasons: [ERR_MISSING_LABEL] } },
    },
    { name: "maxSkew 2 lets the middle zone in", constraint: { maxSkew: 2 }, want: { n1: reject, n2: undefined, n3: undefined } },
    { name: "a pod not matching its own selector adds nothing", constraint: {}, labels: { app: "other" }, want: { n1: reject, n2: undefined, n3: undefined } },
    { name: "ScheduleAnyway constraints do not filter", constraint: { whenUnsatisfiable: "ScheduleAnyway" }, want: { n1: undefined, n2: undefined, n3: undefined, nolabel: undefined } },
    { name: "minDomains above the domain count makes the global minimum 0", constraint: { maxSkew: 2, minDomains: 5 }, want: { n1: reject, n2: undefined, n3: undefined } },
    {
      name: "matchLabelKeys narrows the selector to the pod's own value",
      constraint: { labelSelector: { matchExpressions: [{ key: "app", operator: "Exists" }] }, matchLabelKeys: ["app"] },
      labels: { app: "db" },
      want: { n1: undefined, n2: undefined, n3: reject },
    },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const pod = makePod("p", { labels: tc.labels ?? { app: "web" }, topologySpreadConstraints: [spread(tc.constraint)] });
      const got = filterAll([podTopologySpread()], pod, cluster(nodes, pods));
      for (const [n, w] of Object.entries(tc.want)) expect(got[n]).toEqual(w as never);
    });
  }

  test("nodeAffinityPolicy Honor (default) ignores domains the pod may not use; Ignore counts them", () => {
    // z3 is empty, but the pod may only go to z1/z2 → min is taken over z1,z2.
    const nodes2 = [zone("z1", "n1", { pool: "a" }), zone("z2", "n2", { pool: "a" }), zone("z3", "n3", { pool: "b" })];
    const pods2 = [app("w1", "n1"), app("w2", "n1"), app("w3", "n2")];
    const honor = makePod("p", { labels: { app: "web" }, nodeSelector: { pool: "a" }, topologySpreadConstraints: [spread()] });
    expect(filterAll([podTopologySpread()], honor, cluster(nodes2, pods2)).n2).toBeUndefined();
    const ignore = makePod("p", { labels: { app: "web" }, nodeSelector: { pool: "a" }, topologySpreadConstraints: [spread({ nodeAffinityPolicy: "Ignore" })] });
    expect(filterAll([podTopologySpread()], ignore, cluster(nodes2, pods2)).n2).toEqual(reject);
  });

  test("terminating pods and other namespaces are not counted", () => {
    const nodes2 = [zone("z1", "n1"), zone("z2", "n2")];
    const pods2 = [makePod("gone", { nodeName: "n1", labels: { app: "web" }, deleting: true }), makePod("elsewhere", { nodeName: "n1", labels: { app: "web" }, ns: "other" })];
    const got = filterAll([podTopologySpread()], makePod("p", { labels: { app: "web" }, topologySpreadConstraints: [spread()] }), cluster(nodes2, pods2));
    expect(got).toEqual({ n1: undefined, n2: undefined });
  });

  test("addPod/removePod keep the counts for preemption's what-ifs", () => {
    const c = cluster([zone("z1", "n1"), zone("z2", "n2")], [app("w1", "n1")]);
    const fw = new Framework(pluginSet([podTopologySpread()]));
    const pod = info(makePod("p", { labels: { app: "web" }, topologySpreadConstraints: [spread()] }));
    const state = new CycleState();
    fw.runPreFilter(state, pod, c);
    expect(fw.runFilters(state, pod, c.get("n1")!).code).toBe("Unschedulable");
    const s2 = state.clone();
    fw.runPreFilterRemovePod(s2, pod, info(app("w1", "n1")), c.get("n1")!);
    expect(fw.runFilters(s2, pod, c.get("n1")!).code).toBe("Success");
    expect(fw.runFilters(state, pod, c.get("n1")!).code).toBe("Unschedulable"); // the original is untouched
  });
});

describe("PodTopologySpread score", () => {
  test("fewer matching pods in the zone scores higher; nodes without the key score 0", () => {
    const nodes = [zone("z1", "n1"), zone("z2", "n2"), zone("z3", "n3"), makeNode("nolabel")];
    const pods = [app("w1", "n1"), app("w2", "n1"), app("w3", "n2")];
    const pod = makePod("p", { labels: { app: "web" }, topologySpreadConstraints: [spread({ whenUnsatisfiable: "ScheduleAnyway" })] });
    // weight ln(3+2); raw = count×w: n1 2w≈3.2→3, n2 ≈1.6→2, n3 0; normalized 100×(max+min−s)/max: 0, 33, 100
    expect(scoreAll(podTopologySpread(), pod, cluster(nodes, pods))).toEqual({ n1: 0, n2: 33, n3: 100, nolabel: 0 });
  });

  test("hostname spreading counts the node's own pods", () => {
    const nodes = [makeNode("h1"), makeNode("h2")];
    const pod = makePod("p", { labels: { app: "web" }, topologySpreadConstraints: [spread({ topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway" })] });
    const s = scoreAll(podTopologySpread(), pod, cluster(nodes, [app("w1", "h1")]));
    expect(s.h2).toBe(100);
    expect(s.h1).toBeLessThan(100);
  });
});
