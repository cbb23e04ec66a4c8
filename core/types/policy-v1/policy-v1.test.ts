/** @module Tests for policy/v1 PodDisruptionBudget: initial status, validation messages, columns. */
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import { admitCreate, describeCauses } from "../test-helpers.ts";
import { EVICTION_SCHEMA, pdbType } from "./index.ts";

const NOW = Date.parse("2024-06-01T12:00:00Z");

function pdb(spec: Record<string, unknown>) {
  return { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "default" }, spec: { selector: { matchLabels: { app: "web" } }, ...spec } };
}

describe("PodDisruptionBudget", () => {
  test("status as a 1.32 server stores it on create", () => {
    const { obj, causes } = admitCreate(pdbType, pdb({ minAvailable: 2 }));
    expect(causes).toEqual([]);
    expect(obj.status).toEqual({ currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 });
  });

  test("validation", () => {
    expect(describeCauses(admitCreate(pdbType, pdb({ minAvailable: "150%", unhealthyPodEvictionPolicy: "Sometimes" })).causes)).toEqual([
      'spec.minAvailable: Invalid value: "150%": must not be greater than 100%',
      'spec.unhealthyPodEvictionPolicy: Unsupported value: "Sometimes": supported values: "AlwaysAllow", "IfHealthyBudget"',
    ]);
    const both = describeCauses(admitCreate(pdbType, pdb({ minAvailable: 1, maxUnavailable: -1 })).causes);
    expect(both[0]).toMatch(/^spec: Invalid value: policy\.PodDisruptionBudgetSpec\{.*\}: minAvailable and maxUnavailable cannot be both set$/);
    expect(both[1]).toBe("spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0");
  });

  test("NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE", () => {
    const o = admitCreate(pdbType, pdb({ maxUnavailable: "25%" })).obj;
    o.metadata.creationTimestamp = "2024-06-01T11:59:00Z";
    (o.status as Record<string, unknown>).disruptionsAllowed = 1;
    expect((pdbType.columns ?? []).map((c) => c.cell(o as KubeObject, NOW))).toEqual(["web", "N/A", "25%", 1, "60s"]);
    expect(pdbType.columns?.map((c) => c.name)).toEqual(["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"]);
  });

  test("the Eviction body schema is re-exported", () => {
    expect(EVICTION_SCHEMA["x-kubernetes-group-version-kind"]).toEqual([{ group: "policy", version: "v1", kind: "Eviction" }]);
  });
});
