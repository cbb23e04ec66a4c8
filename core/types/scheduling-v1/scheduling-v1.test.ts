/** @module Tests for scheduling.k8s.io/v1 PriorityClass: defaults, validation, immutability, columns. */
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import { admitCreate, admitUpdate, describeCauses } from "../test-helpers.ts";
import { priorityClassType } from "./index.ts";

const pc = (extra: Record<string, unknown>, name = "high") => ({ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name }, value: 1000, ...extra });

describe("PriorityClass", () => {
  test("preemptionPolicy defaults to PreemptLowerPriority", () => {
    const { obj, causes } = admitCreate(priorityClassType, pc({}));
    expect(causes).toEqual([]);
    expect(obj.preemptionPolicy).toBe("PreemptLowerPriority");
  });

  test("value limit, system prefix, policy", () => {
    expect(describeCauses(admitCreate(priorityClassType, pc({ value: 1000000001, preemptionPolicy: "Sometimes" })).causes)).toEqual([
      "value: Forbidden: maximum allowed value of a user defined priority is 1000000000",
      'preemptionPolicy: Unsupported value: "Sometimes": supported values: "Never", "PreemptLowerPriority"',
    ]);
    expect(describeCauses(admitCreate(priorityClassType, pc({ value: 5 }, "system-important")).causes)).toEqual([
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-important is not a known system priority class",
    ]);
    expect(admitCreate(priorityClassType, pc({ value: 2000001000 }, "system-node-critical")).causes).toEqual([]);
  });

  test("value and preemptionPolicy are immutable", () => {
    const old = admitCreate(priorityClassType, pc({})).obj;
    expect(describeCauses(admitUpdate(priorityClassType, { ...old, value: 5, preemptionPolicy: "Never" }, old).causes)).toEqual([
      "value: Forbidden: may not be changed in an update.",
      'preemptionPolicy: Invalid value: "Never": field is immutable',
    ]);
  });

  test("NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY", () => {
    const o = admitCreate(priorityClassType, pc({ globalDefault: true })).obj;
    o.metadata.creationTimestamp = "2024-06-01T11:00:00Z";
    expect((priorityClassType.columns ?? []).map((c) => c.cell(o as KubeObject, Date.parse("2024-06-01T12:00:00Z")))).toEqual(["high", 1000, true, "60m", "PreemptLowerPriority"]);
    expect(priorityClassType.columns?.map((c) => c.name)).toEqual(["Name", "Value", "Global-Default", "Age", "PreemptionPolicy"]);
  });
});
