/** @module NodeAffinity: nodeSelector, required terms (every operator), preferred scores. */
import { describe, expect, test } from "bun:test";
import { cluster, filterAll, makeNode, makePod, scoreAll } from "../testing.ts";
import { ERR_NODE_AFFINITY, nodeAffinity } from "./node-affinity.ts";

const nodes = [
  makeNode("a", { labels: { zone: "z1", disk: "ssd", cores: "8" } }),
  makeNode("b", { labels: { zone: "z2", disk: "hdd", cores: "4" } }),
  makeNode("c", { labels: { zone: "z3" } }),
];
const required = (...terms: unknown[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } });
const expr = (key: string, operator: string, values?: string[]) => ({ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] });

describe("NodeAffinity filter", () => {
  const cases: { name: string; pod: Parameters<typeof makePod>[1]; fits: string[] }[] = [
    { name: "no constraints", pod: {}, fits: ["a", "b", "c"] },
    { name: "nodeSelector", pod: { nodeSelector: { disk: "ssd" } }, fits: ["a"] },
    { name: "In", pod: { affinity: required(expr("zone", "In", ["z1", "z2"])) }, fits: ["a", "b"] },
    { name: "NotIn (missing key matches)", pod: { affinity: required(expr("disk", "NotIn", ["ssd"])) }, fits: ["b", "c"] },
    { name: "Exists", pod: { affinity: required(expr("disk", "Exists")) }, fits: ["a", "b"] },
    { name: "DoesNotExist", pod: { affinity: required(expr("disk", "DoesNotExist")) }, fits: ["c"] },
    { name: "Gt", pod: { affinity: required(expr("cores", "Gt", ["4"])) }, fits: ["a"] },
    { name: "Lt", pod: { affinity: required(expr("cores", "Lt", ["8"])) }, fits: ["b"] },
    { name: "terms are ORed", pod: { affinity: required(expr("zone", "In", ["z1"]), expr("zone", "In", ["z3"])) }, fits: ["a", "c"] },
    {
      name: "requirements in a term are ANDed",
      pod: { affinity: required({ matchExpressions: [{ key: "zone", operator: "In", values: ["z1", "z2"] }, { key: "disk", operator: "In", values: ["hdd"] }] }) },
      fits: ["b"],
    },
    { name: "matchFields metadata.name", pod: { affinity: required({ matchFields: [{ key: "metadata.name", operator: "In", values: ["c"] }] }) }, fits: ["c"] },
    { name: "an empty term matches nothing", pod: { affinity: required({}) }, fits: [] },
    { name: "nodeSelector and affinity both apply", pod: { nodeSelector: { disk: "ssd" }, affinity: required(expr("zone", "In", ["z2"])) }, fits: [] },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const got = filterAll([nodeAffinity()], makePod("p", tc.pod), cluster(nodes));
      for (const n of ["a", "b", "c"]) {
        if (tc.fits.includes(n)) expect(got[n]).toBeUndefined();
        else expect(got[n]).toEqual({ code: "UnschedulableAndUnresolvable", reasons: [ERR_NODE_AFFINITY] });
      }
    });
  }
});

describe("NodeAffinity score", () => {
  test("summed weights of matching preferred terms, normalized to 100", () => {
    const pod = makePod("p", {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 20, preference: expr("disk", "In", ["ssd"]) },
            { weight: 10, preference: expr("zone", "In", ["z2", "z1"]) },
          ],
        },
      },
    });
    expect(scoreAll(nodeAffinity(), pod, cluster(nodes))).toEqual({ a: 100, b: 33, c: 0 });
  });
});
