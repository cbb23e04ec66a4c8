/** @module NodeName, NodeUnschedulable, TaintToleration and NodePorts, table-driven. */
import { describe, expect, test } from "bun:test";
import { CycleState } from "../framework/cycle-state.ts";
import { cluster, filterAll, info, makeNode, makePod, scoreAll } from "../testing.ts";
import { ERR_NODE_NAME, ERR_PORTS, ERR_UNSCHEDULABLE, nodeName, nodePorts, nodeUnschedulable, taintToleration } from "./node-basics.ts";

const unresolvable = (r: string) => ({ code: "UnschedulableAndUnresolvable" as const, reasons: [r] });

describe("NodeName", () => {
  test("a pod naming a node only fits that node", () => {
    const c = cluster([makeNode("a"), makeNode("b")]);
    const pod = makePod("p");
    (pod.spec as Record<string, unknown>).nodeName = "b";
    const got = filterAll([nodeName()], pod, c);
    expect(got.b).toBeUndefined();
    expect(got.a?.code).toBe("UnschedulableAndUnresolvable");
  });
  test("the filter itself rejects other nodes with upstream's reason", () => {
    const pod = makePod("p");
    (pod.spec as Record<string, unknown>).nodeName = "b";
    const pl = nodeName();
    const c = cluster([makeNode("a")]);
    expect(pl.filter(new CycleState(), info(pod), c.get("a")!)).toEqual(unresolvable(ERR_NODE_NAME));
  });
  test("no nodeName: skipped", () => {
    expect(filterAll([nodeName()], makePod("p"), cluster([makeNode("a")])).a).toBeUndefined();
  });
});

describe("NodeUnschedulable", () => {
  const c = cluster([makeNode("cordoned", { unschedulable: true }), makeNode("ok")]);
  test.each([
    ["a plain pod avoids a cordoned node", undefined, unresolvable(ERR_UNSCHEDULABLE)],
    ["tolerating node.kubernetes.io/unschedulable lets it in", [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }], undefined],
  ])("%s", (_n, tolerations, want) => {
    const got = filterAll([nodeUnschedulable()], makePod("p", tolerations ? { tolerations } : {}), c);
    expect(got.cordoned).toEqual(want as never);
    expect(got.ok).toBeUndefined();
  });
});

describe("TaintToleration", () => {
  const nodes = [
    makeNode("clean"),
    makeNode("gpu", { taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }] }),
    makeNode("draining", { taints: [{ key: "maint", effect: "NoExecute" }] }),
    makeNode("soft", { taints: [{ key: "spot", value: "yes", effect: "PreferNoSchedule" }] }),
  ];
  const cases: { name: string; tolerations: unknown[]; want: Record<string, unknown> }[] = [
    {
      name: "no tolerations: NoSchedule and NoExecute taints reject, PreferNoSchedule does not",
      tolerations: [],
      want: { clean: undefined, gpu: unresolvable("node(s) had untolerated taint {gpu: true}"), draining: unresolvable("node(s) had untolerated taint {maint: }"), soft: undefined },
    },
    { name: "Equal with the value tolerates", tolerations: [{ key: "gpu", operator: "Equal", value: "true", effect: "NoSchedule" }], want: { gpu: undefined } },
    { name: "Equal with another value does not", tolerations: [{ key: "gpu", value: "false" }], want: { gpu: unresolvable("node(s) had untolerated taint {gpu: true}") } },
    { name: "Exists without a key tolerates everything", tolerations: [{ operator: "Exists" }], want: { gpu: undefined, draining: undefined } },
    { name: "a toleration for another effect does not apply", tolerations: [{ key: "maint", operator: "Exists", effect: "NoSchedule" }], want: { draining: unresolvable("node(s) had untolerated taint {maint: }") } },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const got = filterAll([taintToleration()], makePod("p", { tolerations: tc.tolerations }), cluster(nodes));
      for (const [n, w] of Object.entries(tc.want)) expect(got[n]).toEqual(w as never);
    });
  }

  test("score: fewer untolerated PreferNoSchedule taints is better (reversed, normalized)", () => {
    const c = cluster([
      makeNode("none"),
      makeNode("one", { taints: [{ key: "a", effect: "PreferNoSchedule" }] }),
      makeNode("two", { taints: [{ key: "a", effect: "PreferNoSchedule" }, { key: "b", effect: "PreferNoSchedule" }] }),
    ]);
    expect(scoreAll(taintToleration(), makePod("p"), c)).toEqual({ none: 100, one: 50, two: 0 });
    expect(scoreAll(taintToleration(), makePod("p", { tolerations: [{ key: "a", operator: "Exists", effect: "PreferNoSchedule" }] }), c)).toEqual({ none: 100, one: 100, two: 0 });
  });
});

describe("NodePorts", () => {
  const c = cluster([makeNode("a"), makeNode("b")], [makePod("web", { nodeName: "a", hostPorts: [8080] })]);
  test.each([
    ["a free port fits everywhere", [9090], { a: undefined, b: undefined }],
    ["a taken port rejects that node only", [8080], { a: { code: "Unschedulable", reasons: [ERR_PORTS] }, b: undefined }],
    ["no host ports: skipped", undefined, { a: undefined, b: undefined }],
  ])("%s", (_n, ports, want) => {
    expect(filterAll([nodePorts()], makePod("p", ports ? { hostPorts: ports } : {}), c)).toEqual(want as never);
  });

  test("different host IPs on the same port do not conflict; 0.0.0.0 conflicts with all", () => {
    const withIp = (name: string, ip: string, nodeName?: string) =>
      makePod(name, { ...(nodeName ? { nodeName } : {}), containers: [{ name: "c", image: "i", ports: [{ containerPort: 53, hostPort: 53, hostIP: ip, protocol: "UDP" }] }] });
    const c2 = cluster([makeNode("a")], [withIp("dns1", "10.0.0.1", "a")]);
    expect(filterAll([nodePorts()], withIp("p", "10.0.0.2"), c2).a).toBeUndefined();
    expect(filterAll([nodePorts()], withIp("p", "0.0.0.0"), c2).a?.code).toBe("Unschedulable");
    expect(filterAll([nodePorts()], withIp("p", "10.0.0.1"), c2).a?.code).toBe("Unschedulable");
  });
});
