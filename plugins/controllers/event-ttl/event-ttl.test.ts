import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Client } from "../../../core/client/types.ts";
import { isApiError } from "../../../core/api/errors.ts";
import { EVENTS, rfc3339 } from "../common/refs.ts";
import { startCluster, type TestCluster, until } from "../common/testing.ts";
import { createEventTtlPlugin, EVENT_TTL_VIEW, EventTtlReconciler, lastOccurrence } from "./index.ts";

let c: TestCluster;
beforeAll(async () => {
  c = await startCluster([createEventTtlPlugin() as never], { "event-ttl-controller": { config: { ttlSeconds: 2 } } });
});
afterAll(() => c.stop());

const event = (name: string, last: number) => ({
  apiVersion: "v1",
  kind: "Event",
  metadata: { name, namespace: "default" },
  involvedObject: { kind: "Pod", name: "p", namespace: "default" },
  reason: "Test",
  message: "m",
  type: "Normal",
  firstTimestamp: rfc3339(last),
  lastTimestamp: rfc3339(last),
  count: 1,
});
const gone = (name: string) =>
  c.client.get(EVENTS, name, { namespace: "default" }).then(
    () => false,
    (e: unknown) => isApiError(e, "NotFound"),
  );

test.each([
  ["lastTimestamp", { lastTimestamp: "2026-01-01T00:00:10Z", firstTimestamp: "2026-01-01T00:00:00Z" }, Date.parse("2026-01-01T00:00:10Z")],
  ["series.lastObservedTime", { series: { lastObservedTime: "2026-01-01T00:00:20.000000Z" }, eventTime: "2026-01-01T00:00:00.000000Z" }, Date.parse("2026-01-01T00:00:20Z")],
  ["creationTimestamp only", {}, Date.parse("2026-01-01T00:00:05Z")],
])("last occurrence from %s", (_l, fields, want) => {
  const e = { metadata: { name: "e", namespace: "default", uid: "u", resourceVersion: "7", creationTimestamp: "2026-01-01T00:00:05Z" }, ...fields };
  expect(lastOccurrence(e)).toBe(want);
  // The cached view keeps what the controller reads, and nothing of the message or the involved object.
  const full = { ...event("e", 0), ...e };
  const view = EVENT_TTL_VIEW.fn(full);
  expect(lastOccurrence(view)).toBe(want);
  expect(view.metadata).toEqual({ name: "e", namespace: "default", uid: "u", resourceVersion: "7", creationTimestamp: "2026-01-01T00:00:05Z" });
  expect(Object.keys(view).filter((k) => ["message", "involvedObject", "reason", "count"].includes(k))).toEqual([]);
});

test("an Event is deleted once its TTL has passed since it last occurred", async () => {
  const t0 = Date.now();
  await c.client.create(EVENTS, event("e1", t0));
  await new Promise((r) => setTimeout(r, 500));
  expect(await gone("e1")).toBe(false);
  await until("deleted after the TTL", () => gone("e1"), 4000);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(900); // 2 s after a second-resolution timestamp
});

describe("EventTtlReconciler", () => {
  const T = Date.parse("2026-01-01T12:00:00Z");
  const at = (s: number) => new Date(T + s * 1000).toISOString();
  test.each([
    ["expired by lastTimestamp", { lastTimestamp: at(-3601) }, "delete"],
    ["not yet: 10 s left", { lastTimestamp: at(-3590) }, 10_100],
    ["a recurrence (series) keeps it", { lastTimestamp: at(-7200), series: { lastObservedTime: at(-60) } }, 3_540_100],
    ["written recently (creation) keeps it", { lastTimestamp: at(-7200), creation: at(-1) }, 3_599_100],
  ] as const)("%s", async (_l, f, want) => {
    const deleted: unknown[] = [];
    const ev = {
      metadata: { name: "e", namespace: "default", uid: "u", resourceVersion: "7", creationTimestamp: "creation" in f ? f.creation : at(-7200) },
      ...f,
    };
    const informer = { getByKey: () => ev } as unknown as ConstructorParameters<typeof EventTtlReconciler>[1];
    const client = { delete: async (_r: unknown, name: string, o: unknown) => void deleted.push([name, o]) } as unknown as Client;
    const r = await new EventTtlReconciler(client, informer, 3_600_000, () => T).reconcile("default/e");
    if (want === "delete") {
      expect(deleted).toEqual([["e", { namespace: "default", preconditions: { uid: "u", resourceVersion: "7" } }]]);
      expect(r).toBeUndefined();
    } else {
      expect(deleted).toEqual([]);
      expect(r).toEqual({ requeueAfter: want });
    }
  });
});
