/** @module Tests for events.k8s.io/v1 Event: core/v1 ↔ events.k8s.io/v1 conversion round trips, strict create/update validation, shared columns and field selectors. */
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import { admitCreate, admitUpdate, describeCauses } from "../test-helpers.ts";
import { conversions, EVENTS_STORAGE_KEY, storageKeyOverrides } from "../conversions.ts";
import { eventType } from "../core-v1/event.ts";
import { coreEventToEventsV1, eventsV1EventType, eventsV1ToCoreEvent } from "./index.ts";

const NOW = Date.parse("2024-06-01T12:00:00Z");

const META = { name: "web.17d", namespace: "default", uid: "u1", resourceVersion: "7", creationTimestamp: "2024-06-01T11:59:00Z" };

const NEW_STYLE: KubeObject = {
  apiVersion: "events.k8s.io/v1",
  kind: "Event",
  metadata: META,
  eventTime: "2024-06-01T11:59:00.123456Z",
  series: { count: 3, lastObservedTime: "2024-06-01T11:59:30.000000Z" },
  reportingController: "example.com/controller",
  reportingInstance: "controller-0",
  action: "Scale",
  reason: "ScaledUp",
  regarding: { kind: "Deployment", namespace: "default", name: "web", apiVersion: "apps/v1", uid: "d1" },
  related: { kind: "ReplicaSet", namespace: "default", name: "web-1" },
  note: "Scaled up to 3",
  type: "Normal",
};

const OLD_STYLE: KubeObject = {
  apiVersion: "v1",
  kind: "Event",
  metadata: META,
  involvedObject: { kind: "Pod", namespace: "default", name: "web-1-x", fieldPath: "spec.containers{app}" },
  reason: "Pulled",
  message: "Successfully pulled image",
  source: { component: "kubelet", host: "node-1" },
  firstTimestamp: "2024-06-01T11:50:00Z",
  lastTimestamp: "2024-06-01T11:58:00Z",
  count: 4,
  type: "Normal",
  reportingComponent: "kubelet",
  reportingInstance: "node-1",
};

describe("core/v1 ↔ events.k8s.io/v1 conversion", () => {
  test("field mapping, both directions", () => {
    expect(eventsV1ToCoreEvent(NEW_STYLE)).toEqual({
      apiVersion: "v1",
      kind: "Event",
      metadata: META,
      eventTime: "2024-06-01T11:59:00.123456Z",
      series: { count: 3, lastObservedTime: "2024-06-01T11:59:30.000000Z" },
      reportingComponent: "example.com/controller",
      reportingInstance: "controller-0",
      action: "Scale",
      reason: "ScaledUp",
      involvedObject: { kind: "Deployment", namespace: "default", name: "web", apiVersion: "apps/v1", uid: "d1" },
      related: { kind: "ReplicaSet", namespace: "default", name: "web-1" },
      message: "Scaled up to 3",
      type: "Normal",
    });
    expect(coreEventToEventsV1(OLD_STYLE)).toEqual({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: META,
      regarding: { kind: "Pod", namespace: "default", name: "web-1-x", fieldPath: "spec.containers{app}" },
      reason: "Pulled",
      note: "Successfully pulled image",
      deprecatedSource: { component: "kubelet", host: "node-1" },
      deprecatedFirstTimestamp: "2024-06-01T11:50:00Z",
      deprecatedLastTimestamp: "2024-06-01T11:58:00Z",
      deprecatedCount: 4,
      type: "Normal",
      reportingController: "kubelet",
      reportingInstance: "node-1",
    });
  });

  test("round trips through storage (core/v1) in both shapes; inputs untouched", () => {
    const conv = conversions[EVENTS_STORAGE_KEY];
    if (!conv) throw new Error("no events conversion");
    expect(conv.storageVersion).toBe("v1");
    expect(conv.servedVersions).toEqual(["v1", "events.k8s.io/v1"]);
    const before = structuredClone(NEW_STYLE);
    expect(conv.fromStorage(conv.toStorage(NEW_STYLE), "events.k8s.io/v1")).toEqual(NEW_STYLE);
    expect(conv.fromStorage(conv.toStorage(OLD_STYLE), "v1")).toEqual(OLD_STYLE);
    expect(conv.toStorage(conv.fromStorage(OLD_STYLE, "events.k8s.io/v1"))).toEqual(OLD_STYLE);
    expect(NEW_STYLE).toEqual(before);
    expect(storageKeyOverrides["events.k8s.io/v1/events"]).toBe("events");
  });
});

describe("events.k8s.io/v1 validation", () => {
  test("a well-formed new-style event passes", () => {
    expect(admitCreate(eventsV1EventType, NEW_STYLE).causes).toEqual([]);
  });

  test("strict create rules (paths as upstream names them)", () => {
    const body = { ...NEW_STYLE, type: "Info", deprecatedCount: 2, deprecatedSource: { component: "x" }, series: { count: 1 } } as KubeObject;
    delete body.reportingController;
    expect(describeCauses(admitCreate(eventsV1EventType, body).causes)).toEqual([
      "reportingController: Required value",
      'series.count: Invalid value: "": should be at least 2',
      "series.lastObservedTime: Required value",
      'type: Invalid value: "": has invalid value: Info',
      'deprecatedCount: Invalid value: "": needs to be unset',
      'deprecatedSource: Invalid value: "": needs to be unset',
    ]);
    const noTime = { ...NEW_STYLE } as KubeObject;
    delete noTime.eventTime;
    expect(describeCauses(admitCreate(eventsV1EventType, noTime).causes)).toEqual(["eventTime: Required value"]);
  });

  test("updates may change series and metadata only", () => {
    const next = { ...NEW_STYLE, series: { count: 4, lastObservedTime: "2024-06-01T11:59:40.000000Z" } };
    expect(admitUpdate(eventsV1EventType, next, NEW_STYLE).causes).toEqual([]);
    const bad = { ...NEW_STYLE, note: "changed", reportingController: "other.io/x" };
    expect(describeCauses(admitUpdate(eventsV1EventType, bad, NEW_STYLE).causes)).toEqual([
      'message: Invalid value: "changed": field is immutable',
      'reportingController: Invalid value: "other.io/x": field is immutable',
    ]);
  });
});

describe("events.k8s.io/v1 columns and field selectors", () => {
  test("same cells as the core/v1 view of the same object", () => {
    const row = (eventsV1EventType.columns ?? []).map((c) => c.cell(NEW_STYLE, NOW));
    const coreRow = (eventType.columns ?? []).map((c) => c.cell(eventsV1ToCoreEvent(NEW_STYLE), NOW));
    expect(row).toEqual(coreRow);
    expect(row.slice(0, 5)).toEqual(["30s", "Normal", "ScaledUp", "deployment/web", ""]);
    expect(row[6]).toBe("Scaled up to 3");
  });

  test("selectable fields use the internal (core) names", () => {
    const get = (f: string) => eventsV1EventType.selectableFields?.[f]?.(NEW_STYLE);
    expect(get("involvedObject.name")).toBe("web");
    expect(get("reportingComponent")).toBe("example.com/controller");
    expect(get("source")).toBe("example.com/controller");
    expect(get("type")).toBe("Normal");
  });
});
