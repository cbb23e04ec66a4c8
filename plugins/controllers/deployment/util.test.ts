import { describe, expect, test } from "bun:test";
import type { Deployment, ReplicaSet } from "../common/refs.ts";
import {
  calculateStatus,
  deploymentProgressing,
  deploymentTimedOut,
  findActiveOrLatest,
  MAX_REPLICAS,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  proportionalSizes,
  REVISION,
  REVISION_HISTORY,
  scaledValue,
  setCondition,
  setNewReplicaSetAnnotations,
} from "./util.ts";

const dep = (replicas: number, maxSurge?: number | string, maxUnavailable?: number | string, type = "RollingUpdate"): Deployment => ({
  metadata: { name: "d", generation: 1 },
  spec: { replicas, strategy: { type, rollingUpdate: { ...(maxSurge !== undefined ? { maxSurge } : {}), ...(maxUnavailable !== undefined ? { maxUnavailable } : {}) } } },
});
let n = 0;
const rs = (replicas: number, opts: { available?: number; status?: number; max?: number; created?: number } = {}): ReplicaSet => ({
  metadata: {
    name: `rs-${n}`,
    uid: `u-${n++}`,
    creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, opts.created ?? n)).toISOString(),
    ...(opts.max !== undefined ? { annotations: { [MAX_REPLICAS]: String(opts.max) } } : {}),
  },
  spec: { replicas },
  status: { replicas: opts.status ?? replicas, availableReplicas: opts.available ?? replicas, readyReplicas: opts.available ?? replicas },
});

describe("int-or-percent and fenceposts", () => {
  test.each([
    [5, 10, false, 5],
    ["25%", 10, true, 3],
    ["25%", 10, false, 2],
    ["0%", 10, true, 0],
    ["100%", 3, false, 3],
    ["3", 10, false, 3],
  ] as const)("scaledValue(%p of %p, roundUp %p) = %p", (v, total, up, want) => {
    expect(scaledValue(v, total, up)).toBe(want);
  });

  test.each([
    ["defaults (25%/25%) of 10", dep(10), 3, 2],
    ["defaults of 1", dep(1), 1, 0],
    ["0 and 0 means maxUnavailable 1", dep(4, 0, 0), 0, 1],
    ["maxUnavailable capped at replicas", dep(2, 0, 5), 0, 2],
    ["Recreate has neither", dep(4, 1, 1, "Recreate"), 0, 0],
    ["zero replicas: no unavailability", dep(0, 1, 1), 1, 0],
  ] as const)("%s", (_l, d, surge, unavailable) => {
    expect(maxSurge(d)).toBe(surge);
    expect(maxUnavailable(d)).toBe(unavailable);
  });
});

describe("new ReplicaSet size during a rolling update (NewRSNewReplicas)", () => {
  test.each([
    ["room for surge", dep(10, 3, 2), [10], 0, 3],
    ["no room: total at max", dep(10, 3, 2), [10, 3], 3, 3],
    ["never above spec.replicas", dep(10, 5, 2), [2], 8, 10],
    ["old scaled down frees room", dep(10, 3, 2), [5, 5], 5, 8],
  ] as const)("%s", (_l, d, sizes, newSize, want) => {
    const all = sizes.map((s) => rs(s));
    const newRS = all.find((r) => r.spec!.replicas === newSize) ?? rs(newSize);
    if (!all.includes(newRS)) all.push(newRS);
    expect(newRSNewReplicas(d, all, newRS)).toBe(want);
  });
  test("Recreate: straight to spec.replicas", () => {
    expect(newRSNewReplicas(dep(4, undefined, undefined, "Recreate"), [rs(0)], rs(0))).toBe(4);
  });
});

describe("proportional scaling", () => {
  test.each([
    ["10 → 20 with maxSurge 3, split 8:5", dep(20, 3, 2), [8, 5], 13, [14, 9]],
    ["10 → 5 with maxSurge 3, split 8:5", dep(5, 3, 2), [8, 5], 13, [5, 3]],
    ["to zero", dep(0, 3, 2), [8, 5], 13, [0, 0]],
    ["leftover goes to the largest", dep(11, 1, 0), [5, 5], 10, [6, 6]],
  ] as const)("%s", (_l, d, sizes, max, want) => {
    const sets = sizes.map((s, i) => rs(s, { max, created: i }));
    const out = proportionalSizes(d, sets);
    expect(sets.map((r) => out.get(r))).toEqual([...want]);
  });
});

test.each([
  ["none", [], undefined],
  ["only the new one active", [0, 0], "new"],
  ["one old one active", [3, 0], "old0"],
  ["two active: none", [3, 2], undefined],
] as const)("findActiveOrLatest: %s", (_l, sizes, want) => {
  if (sizes.length === 0) return expect(findActiveOrLatest(undefined, [])).toBeUndefined();
  const old0 = rs(sizes[0]!, { created: 1 });
  const newRS = rs(sizes[1]!, { created: 2 });
  const got = findActiveOrLatest(newRS, [old0]);
  expect(got).toBe(want === "new" ? newRS : want === "old0" ? old0 : (undefined as never));
});

describe("revision annotations", () => {
  test("a rollback to an old ReplicaSet raises its revision and records the old one", () => {
    const d: Deployment = { metadata: { name: "d", annotations: { team: "a", [REVISION]: "2" } }, spec: { replicas: 1 } };
    const r: ReplicaSet = { metadata: { name: "r", annotations: { [REVISION]: "1" } } };
    expect(setNewReplicaSetAnnotations(d, r, 3, true)).toBe(true);
    expect(r.metadata.annotations).toEqual({ team: "a", [REVISION]: "3", [REVISION_HISTORY]: "1" });
    expect(setNewReplicaSetAnnotations(d, r, 3, true)).toBe(false);
    r.metadata.annotations![REVISION] = "3";
    setNewReplicaSetAnnotations(d, r, 5, true);
    expect(r.metadata.annotations![REVISION_HISTORY]).toBe("1,3");
  });
  test("a new ReplicaSet gets desired and max replicas", () => {
    const r: ReplicaSet = { metadata: { name: "r" } };
    setNewReplicaSetAnnotations(dep(4, 1, 1), r, 1, false);
    expect(r.metadata.annotations).toMatchObject({ [REVISION]: "1", "deployment.kubernetes.io/desired-replicas": "4", [MAX_REPLICAS]: "5" });
  });
});

describe("status and conditions", () => {
  const T = Date.UTC(2026, 0, 1, 12);
  test("Available follows minAvailable; counts come from the ReplicaSets", () => {
    const d = dep(4, 1, 1);
    const newRS = rs(2, { available: 1 });
    const s = calculateStatus([rs(2, { available: 2 }), newRS], newRS, d, T);
    expect(s).toMatchObject({ observedGeneration: 1, replicas: 4, updatedReplicas: 2, availableReplicas: 3, unavailableReplicas: 1 });
    expect(s.conditions).toEqual([
      { type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability.", lastUpdateTime: "2026-01-01T12:00:00Z", lastTransitionTime: "2026-01-01T12:00:00Z" },
    ]);
  });
  test("setCondition keeps the transition time when only the reason changes, and nothing when nothing changes", () => {
    const s = { conditions: [{ type: "Progressing", status: "True" as const, reason: "A", lastTransitionTime: "t0", lastUpdateTime: "t0" }] };
    setCondition(s, { type: "Progressing", status: "True", reason: "A", lastTransitionTime: "t1", lastUpdateTime: "t1" });
    expect(s.conditions[0]!.lastUpdateTime).toBe("t0");
    setCondition(s, { type: "Progressing", status: "True", reason: "B", lastTransitionTime: "t2", lastUpdateTime: "t2" });
    expect(s.conditions[0]).toMatchObject({ reason: "B", lastTransitionTime: "t0", lastUpdateTime: "t2" });
  });
  test.each([
    ["more updated", { updatedReplicas: 2 }, true],
    ["more available", { availableReplicas: 3 }, true],
    ["nothing moved", {}, false],
  ] as const)("progressing: %s", (_l, change, want) => {
    const d: Deployment = { ...dep(4), status: { replicas: 4, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 } };
    expect(deploymentProgressing(d, { ...d.status, ...change })).toBe(want);
  });
  test.each([
    ["deadline passed", "2026-01-01T11:49:00Z", "ReplicaSetUpdated", true],
    ["within the deadline", "2026-01-01T11:55:00Z", "ReplicaSetUpdated", false],
    ["complete never times out", "2026-01-01T00:00:00Z", "NewReplicaSetAvailable", false],
  ] as const)("timed out: %s", (_l, updated, reason, want) => {
    const d: Deployment = { ...dep(4), spec: { ...dep(4).spec, progressDeadlineSeconds: 600 } };
    const status = { conditions: [{ type: "Progressing", status: "True" as const, reason, lastUpdateTime: updated }] };
    expect(deploymentTimedOut(d, status, T)).toBe(want);
  });
});
