import { describe, expect, test } from "bun:test";
import { slowStartBatch } from "./batch.ts";
import { BUILTIN_RESOURCES } from "./discovery.ts";
import { SpamFilter } from "./events.ts";
import { Expectations } from "./expectations.ts";
import { podsToDelete } from "./pods.ts";
import type { Pod } from "./refs.ts";
import { computeHash, equalIgnoreHash } from "./semantic.ts";
import { builtinTypes } from "../../../core/types/index.ts";

const NOW = Date.UTC(2026, 0, 1, 12);
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();
function pod(name: string, o: { node?: string; phase?: string; ready?: boolean; readyFor?: number; created?: number; restarts?: number; cost?: number } = {}): Pod {
  return {
    metadata: { name, uid: name, creationTimestamp: ago(o.created ?? 1000), ...(o.cost !== undefined ? { annotations: { "controller.kubernetes.io/pod-deletion-cost": String(o.cost) } } : {}) },
    spec: { ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? "Running",
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True", lastTransitionTime: ago(o.readyFor ?? 500) }],
      containerStatuses: [{ restartCount: o.restarts ?? 0 }],
    },
  };
}

describe("which pods go first (ActivePodsWithRanks)", () => {
  test.each([
    ["unscheduled before scheduled", [pod("a", { node: "n1" }), pod("b")], "b"],
    ["Pending before Running", [pod("a", { node: "n1" }), pod("b", { node: "n2", phase: "Pending" })], "b"],
    ["not ready before ready", [pod("a", { node: "n1" }), pod("b", { node: "n2", ready: false })], "b"],
    ["lower deletion cost first", [pod("a", { node: "n1", cost: 10 }), pod("b", { node: "n2", cost: -5 })], "b"],
    ["doubled up on a node first", [pod("a", { node: "n1" }), pod("b", { node: "n2" }), pod("c", { node: "n2" })], "b"],
    ["ready more recently first", [pod("a", { node: "n1", readyFor: 5000 }), pod("b", { node: "n2", readyFor: 10 })], "b"],
    ["more restarts first", [pod("a", { node: "n1" }), pod("b", { node: "n2", restarts: 3 })], "b"],
    ["newer first", [pod("a", { node: "n1", created: 100_000 }), pod("b", { node: "n2", created: 100 })], "b"],
  ])("%s", (_l, pods, first) => {
    expect(podsToDelete(pods, pods, 1, NOW).map((p) => p.metadata.name)).toEqual([first]);
  });
});

describe("semantic template equality", () => {
  const base = { metadata: { labels: { app: "w" } }, spec: { containers: [{ name: "c", image: "i", ports: [{ containerPort: 80 }] }] } };
  test.each([
    ["null creationTimestamp and empty resources", { metadata: { labels: { app: "w" }, creationTimestamp: null }, spec: { containers: [{ name: "c", image: "i", resources: {}, ports: [{ containerPort: 80 }] }] } }, true],
    ["the hash label", { ...base, metadata: { labels: { app: "w", "pod-template-hash": "abc" } } }, true],
    ["key order", { spec: { containers: [{ ports: [{ containerPort: 80 }], image: "i", name: "c" }] }, metadata: { labels: { app: "w" } } }, true],
    ["another image", { ...base, spec: { containers: [{ name: "c", image: "j", ports: [{ containerPort: 80 }] }] } }, false],
    ["another label", { ...base, metadata: { labels: { app: "x" } } }, false],
  ])("%s → equal %p", (_l, other, want) => {
    expect(equalIgnoreHash(base as never, other as never)).toBe(want);
    if (want) expect(computeHash(base as never)).toBe(computeHash(other as never));
  });
  test("the hash changes with the collision count and uses the safe alphabet", () => {
    const h = computeHash(base as never);
    expect(h).toMatch(/^[4-9bcdf]{1,10}$/);
    expect(computeHash(base as never, 1)).not.toBe(h);
  });
});

test("slow start: batches of 1, 2, 4 …, stopping after a failing batch", async () => {
  const calls: number[] = [];
  const r = await slowStartBatch(20, async (i) => {
    calls.push(i);
    if (i === 5) throw new Error("quota");
  });
  // Batches 1 (0), 2 (1-2), 4 (3-6): the third fails, so 13 are skipped.
  expect(calls.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  expect(r).toEqual({ successes: 6, skipped: 13, error: new Error("quota") });
});

test("expectations: satisfied when observed, or after the TTL", () => {
  let now = 0;
  const e = new Expectations({ now: () => now, ttlMs: 1000 });
  expect(e.satisfied("k")).toBe(true);
  e.expectCreations("k", 2);
  e.creationObserved("k");
  expect(e.satisfied("k")).toBe(false);
  e.creationObserved("k");
  expect(e.satisfied("k")).toBe(true);
  e.expectDeletions("k", ["a", "b"]);
  e.deletionObserved("k", "zzz"); // not one we asked to delete
  e.deletionObserved("k", "a");
  expect(e.satisfied("k")).toBe(false);
  now = 1001;
  expect(e.satisfied("k")).toBe(true);
});

test("spam filter: 25 per object and reason, then one per refill", () => {
  let now = 0;
  const f = new SpamFilter({ now: () => now, refillMs: 1000 });
  const allowed = Array.from({ length: 30 }, () => f.allow("rs/a")).filter(Boolean).length;
  expect(allowed).toBe(25);
  expect(f.allow("rs/b")).toBe(true);
  now = 2500;
  expect([f.allow("rs/a"), f.allow("rs/a"), f.allow("rs/a")]).toEqual([true, true, false]);
});

test("the built-in resource table matches the kernel's registry", () => {
  const registry = new Set(builtinTypes().map((t) => `${t.group}/${t.plural}/${t.namespaced}`));
  for (const r of BUILTIN_RESOURCES) {
    if (r.ref.resource === "customresourcedefinitions") continue; // registered by the kernel itself
    expect(registry.has(`${r.ref.group}/${r.ref.resource}/${r.namespaced}`)).toBe(true);
  }
  const table = new Set(BUILTIN_RESOURCES.map((r) => `${r.ref.group}/${r.ref.resource}`));
  for (const t of builtinTypes()) expect(table.has(`${t.group}/${t.plural}`) || t.group === "events.k8s.io").toBe(true);
});
