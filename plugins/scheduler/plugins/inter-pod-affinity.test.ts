/** @module InterPodAffinity: required affinity, anti-affinity both ways, namespaces, preferred scoring. */
import { describe, expect, test } from "bun:test";
import { cluster, filterAll, makeNode, makePod, scoreAll } from "../testing.ts";
import { ERR_AFFINITY, ERR_ANTI_AFFINITY, ERR_EXISTING_ANTI_AFFINITY, interPodAffinity } from "./inter-pod-affinity.ts";

const nodes = [
  makeNode("a1", { labels: { zone: "a" } }),
  makeNode("a2", { labels: { zone: "a" } }),
  makeNode("b1", { labels: { zone: "b" } }),
  makeNode("bare"),
];
const term = (labels: Record<string, string>, topologyKey = "zone", extra: Record<string, unknown> = {}) => ({
  labelSelector: { matchLabels: labels },
  topologyKey,
  ...extra,
});
const affinity = (...terms: unknown[]) => ({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } });
const anti = (...terms: unknown[]) => ({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } });
const NOT_AFF = { code: "UnschedulableAndUnresolvable", reasons: [ERR_AFFINITY] };
const NOT_ANTI = { code: "Unschedulable", reasons: [ERR_ANTI_AFFINITY] };
const NOT_EXISTING = { code: "Unschedulable", reasons: [ERR_EXISTING_ANTI_AFFINITY] };

describe("InterPodAffinity filter", () => {
  const db = makePod("db", { nodeName: "a1", labels: { app: "db" } });
  const cases: { name: string; existing: ReturnType<typeof makePod>[]; pod: ReturnType<typeof makePod>; want: Record<string, unknown>; ns?: Record<string, Record<string, string>> }[] = [
    {
      name: "affinity: same zone as a matching pod",
      existing: [db],
      pod: makePod("p", { affinity: affinity(term({ app: "db" })) }),
      want: { a1: undefined, a2: undefined, b1: NOT_AFF, bare: NOT_AFF },
    },
    {
      name: "affinity with no match anywhere: the first pod of a self-matching group may go anywhere with the key",
      existing: [],
      pod: makePod("p", { labels: { app: "web" }, affinity: affinity(term({ app: "web" })) }),
      want: { a1: undefined, b1: undefined, bare: NOT_AFF },
    },
    {
      name: "affinity with no match and not self-matching: nowhere",
      existing: [],
      pod: makePod("p", { affinity: affinity(term({ app: "db" })) }),
      want: { a1: NOT_AFF, b1: NOT_AFF },
    },
    {
      name: "anti-affinity: away from the zone of a matching pod",
      existing: [db],
      pod: makePod("p", { affinity: anti(term({ app: "db" })) }),
      want: { a1: NOT_ANTI, a2: NOT_ANTI, b1: undefined, bare: undefined },
    },
    {
      name: "anti-affinity per hostname",
      existing: [db],
      pod: makePod("p", { affinity: anti(term({ app: "db" }, "kubernetes.io/hostname")) }),
      want: { a1: NOT_ANTI, a2: undefined, b1: undefined },
    },
    {
      name: "an existing pod's anti-affinity keeps matching pods out of its zone",
      existing: [makePod("loner", { nodeName: "b1", labels: { app: "loner" }, affinity: anti(term({ app: "web" })) })],
      pod: makePod("p", { labels: { app: "web" } }),
      want: { a1: undefined, b1: NOT_EXISTING, bare: undefined },
    },
    {
      name: "terms only see the pod's own namespace by default",
      existing: [makePod("db", { nodeName: "a1", labels: { app: "db" }, ns: "other" })],
      pod: makePod("p", { affinity: anti(term({ app: "db" })) }),
      want: { a1: undefined, b1: undefined },
    },
    {
      name: "namespaces lists other namespaces",
      existing: [makePod("db", { nodeName: "a1", labels: { app: "db" }, ns: "other" })],
      pod: makePod("p", { affinity: anti(term({ app: "db" }, "zone", { namespaces: ["other"] })) }),
      want: { a1: NOT_ANTI, b1: undefined },
    },
    {
      name: "namespaceSelector selects namespaces by label",
      existing: [makePod("db", { nodeName: "a1", labels: { app: "db" }, ns: "team-x" })],
      pod: makePod("p", { affinity: anti(term({ app: "db" }, "zone", { namespaceSelector: { matchLabels: { team: "x" } } })) }),
      ns: { "team-x": { team: "x" } },
      want: { a1: NOT_ANTI, b1: undefined },
    },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const got = filterAll([interPodAffinity()], tc.pod, cluster(nodes, tc.existing, tc.ns));
      for (const [n, w] of Object.entries(tc.want)) expect(got[n]).toEqual(w as never);
    });
  }
});

describe("InterPodAffinity score", () => {
  test("preferred affinity and anti-affinity by weight, normalized between min and max", () => {
    const existing = [makePod("cache", { nodeName: "a1", labels: { app: "cache" } }), makePod("noisy", { nodeName: "b1", labels: { app: "noisy" } })];
    const pod = makePod("p", {
      affinity: {
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term({ app: "cache" }) }] },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: term({ app: "noisy" }) }] },
      },
    });
    // raw: zone a +10, zone b −5, bare 0 → (s−min)/(max−min): a 100, b 0, bare 33
    expect(scoreAll(interPodAffinity(), pod, cluster(nodes, existing))).toEqual({ a1: 100, a2: 100, b1: 0, bare: 33 });
  });

  test("existing pods' preferences about the incoming pod count too", () => {
    const existing = [makePod("fan", { nodeName: "b1", affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term({ app: "web" }) }] } } })];
    const s = scoreAll(interPodAffinity(), makePod("p", { labels: { app: "web" } }), cluster(nodes, existing));
    expect(s).toEqual({ a1: 0, a2: 0, b1: 100, bare: 0 });
  });
});
